"""Recording and sending reminders: once per user, item, threshold and channel, on any number of machines.

:func:`run` is what ``registry reminders run`` calls (from cron, every few
minutes, on one machine or several):

1. **Record** what :func:`registry.reminders.rules.due_on` finds for the day,
   for every active user of the institution concerned, on the ``inbox``
   channel (delivered on recording) and, unless the user turned e-mail off,
   the ``email`` channel.  Each row is inserted with "on conflict do
   nothing" against the unique key, so a second run, or a run on another
   machine at the same moment, records nothing twice.
2. **Send** the e-mails waiting: each is first *claimed* by one conditional
   UPDATE (only one runner's succeeds) and committed, then sent, then marked
   sent, or put back with its next attempt after an exponential backoff
   (``REMINDER_RETRY_SECONDS`` × 2^(tries − 1)), or marked failed after
   ``REMINDER_MAX_ATTEMPTS`` tries (shown to admins).  A runner that dies
   holding a claim leaves it to expire (``REMINDER_CLAIM_SECONDS``); the
   message may then go out twice, never zero times.

Unlike the record services, sending commits as it goes: each message is an
outside effect that must be written down as soon as it happened.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable

import sqlalchemy as sa
from flask import current_app

from registry.auth.models import User
from registry.auth.policy import ensure_admin
from registry.db import utcnow
from registry.errors import ValidationError
from registry.extensions import db
from registry.reminders import mail, rules, texts
from registry.reminders.models import LANGUAGES, REMINDER_KINDS, Reminder, ReminderSettings


@dataclass
class RunResult:
    recorded_inbox: int = 0
    recorded_email: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


# --- Settings ------------------------------------------------------------------


def settings(user: User) -> ReminderSettings:
    """The user's choices (defaults when never saved: everything, by e-mail too, in Chinese)."""
    found = db.session.get(ReminderSettings, user.id)
    return found or ReminderSettings(user_id=user.id, muted_kinds=[], email=True, language="zh")


def save_settings(user: User, *, kinds: Iterable[str], email: bool, language: str) -> ReminderSettings:
    """Keep the kinds ``user`` wants (the others are muted), e-mail on or off, and the e-mails' language."""
    wanted = set(kinds)
    unknown = wanted - set(REMINDER_KINDS)
    if unknown:
        raise ValidationError(", ".join(sorted(unknown)), field="kinds")
    if language not in LANGUAGES:
        raise ValidationError(language, field="language")
    row = db.session.get(ReminderSettings, user.id)
    if row is None:
        row = ReminderSettings(user_id=user.id)
        db.session.add(row)
    row.muted_kinds = [kind for kind in REMINDER_KINDS if kind not in wanted]
    row.email = bool(email)
    row.language = language
    db.session.flush()
    return row


# --- Recording what is due ------------------------------------------------------


def _insert(values: list[dict[str, Any]]) -> int:
    """Insert reminder rows, skipping any already recorded (the unique key); return how many were new."""
    if not values:
        return 0
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(Reminder).on_conflict_do_nothing(
        index_elements=["user_id", "kind", "item_key", "threshold", "channel"])
    new = 0
    for chunk in range(0, len(values), 500):
        result = db.session.execute(stmt.returning(Reminder.id), values[chunk:chunk + 500])
        new += len(result.all())
    return new


def _recipients(institution_ids: set[int]) -> dict[int, list[tuple[User, ReminderSettings]]]:
    if not institution_ids:
        return {}
    users = list(db.session.scalars(sa.select(User).where(
        User.role == "institution", User.active.is_(True), User.institution_id.in_(institution_ids))
        .order_by(User.id)))
    chosen = {row.user_id: row for row in db.session.scalars(
        sa.select(ReminderSettings).where(ReminderSettings.user_id.in_([u.id for u in users])))} if users else {}
    out: dict[int, list[tuple[User, ReminderSettings]]] = {}
    for user in users:
        out.setdefault(user.institution_id, []).append((user, chosen.get(user.id) or settings(user)))
    return out


def _regulators() -> list[tuple[User, ReminderSettings]]:
    """The active regulators, with their choices: they are told of applications waiting too long."""
    users = list(db.session.scalars(sa.select(User).where(User.role == "regulator", User.active.is_(True))
                                    .order_by(User.id)))
    chosen = {row.user_id: row for row in db.session.scalars(
        sa.select(ReminderSettings).where(ReminderSettings.user_id.in_([u.id for u in users])))} if users else {}
    return [(user, chosen.get(user.id) or settings(user)) for user in users]


def record_due(today: date, *, now: datetime | None = None) -> tuple[int, int]:
    """Record what is due on ``today`` for every recipient; return (new inbox rows, new e-mails)."""
    now = now or utcnow()
    due = list(rules.due_on(today))
    recipients = _recipients({item.institution_id for item in due if item.audience == "institution"})
    regulators = _regulators() if any(item.audience == "regulators" for item in due) else []
    base_url = current_app.config["PUBLIC_BASE_URL"]
    inbox, email = [], []
    for item in due:
        audience = regulators if item.audience == "regulators" else recipients.get(item.institution_id, ())
        for user, chosen in audience:
            if item.kind in (chosen.muted_kinds or []):
                continue
            common = dict(user_id=user.id, kind=item.kind, item_key=item.item_key, threshold=item.threshold,
                          institution_id=item.institution_id, params=item.params, due_on=item.due_on,
                          created_at=now, attempts=0)
            inbox.append(dict(common, channel="inbox", recipient=f"user:{user.id}", status="sent", sent_at=now))
            if chosen.email and user.email:
                subject, _body = texts.render(item.kind, item.threshold, item.params, chosen.language,
                                              base_url=base_url)
                email.append(dict(common, channel="email", recipient=user.email, subject=subject[:300],
                                  status="pending", next_attempt_at=now))
    return _insert(inbox), _insert(email)


# --- Sending e-mail -----------------------------------------------------------------


def _sendable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Reminder.channel == "email", sa.or_(
        sa.and_(Reminder.status == "pending", Reminder.next_attempt_at <= now),
        sa.and_(Reminder.status == "sending", Reminder.claimed_until < now)))


def claim(reminder_id: int, *, now: datetime) -> bool:
    """Take one e-mail for this runner; False when another runner has it (or it is no longer due)."""
    lease = timedelta(seconds=current_app.config["REMINDER_CLAIM_SECONDS"])
    result = db.session.execute(
        sa.update(Reminder).where(Reminder.id == reminder_id, _sendable(now))
        .values(status="sending", claimed_until=now + lease).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _deliver(reminder: Reminder, *, now: datetime) -> str:
    """Send one claimed e-mail and write down the outcome: "sent", "retrying" or "failed"."""
    config = current_app.config
    chosen = settings(reminder.user)
    subject, text = texts.render(reminder.kind, reminder.threshold, reminder.params or {}, chosen.language,
                                 base_url=config["PUBLIC_BASE_URL"])
    reminder.attempts += 1
    reminder.claimed_until = None
    try:
        mail.send(config, mail.build(config, reminder.recipient, subject, text))
    except mail.SendFailed as error:
        reminder.last_error = str(error)[:500]
        if reminder.attempts >= config["REMINDER_MAX_ATTEMPTS"]:
            reminder.status = "failed"
            outcome = "failed"
        else:
            reminder.status = "pending"
            delay = config["REMINDER_RETRY_SECONDS"] * 2 ** (reminder.attempts - 1)
            reminder.next_attempt_at = now + timedelta(seconds=delay)
            outcome = "retrying"
    else:
        reminder.status, reminder.sent_at, reminder.last_error = "sent", utcnow(), None
        outcome = "sent"
    db.session.commit()
    return outcome


def send_pending(*, now: datetime | None = None, limit: int = 1000) -> RunResult:
    """Send the e-mails that are due (first tries and retries whose time has come)."""
    now = now or utcnow()
    result = RunResult()
    ids = list(db.session.scalars(sa.select(Reminder.id).where(_sendable(now)).order_by(Reminder.id).limit(limit)))
    db.session.commit()
    for reminder_id in ids:
        if not claim(reminder_id, now=now):
            continue
        reminder = db.session.get(Reminder, reminder_id, populate_existing=True)
        outcome = _deliver(reminder, now=now)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def run(today: date | None = None, *, now: datetime | None = None) -> RunResult:
    """Record what is due on ``today`` (default: the current date) and send what waits."""
    now = now or utcnow()
    today = today or now.date()
    inbox, email = record_due(today, now=now)
    db.session.commit()
    result = send_pending(now=now)
    result.recorded_inbox, result.recorded_email = inbox, email
    return result


# --- The inbox and the sent-log ------------------------------------------------------


def inbox_query(user: User) -> sa.Select:
    return (sa.select(Reminder).where(Reminder.user_id == user.id, Reminder.channel == "inbox")
            .order_by(Reminder.read_at.is_not(None), Reminder.created_at.desc(), Reminder.id.desc()))


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Reminder).where(
        Reminder.user_id == user.id, Reminder.channel == "inbox", Reminder.read_at.is_(None))) or 0


def mark_read(user: User, reminder_id: int | None = None) -> int:
    """Mark one of the user's inbox messages (or all of them) read; return how many changed."""
    stmt = sa.update(Reminder).where(Reminder.user_id == user.id, Reminder.channel == "inbox",
                                     Reminder.read_at.is_(None))
    if reminder_id is not None:
        stmt = stmt.where(Reminder.id == reminder_id)
    result = db.session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount


def log_query(actor: Any, *, status: str | None = None, channel: str | None = None) -> sa.Select:
    """The sent-log for admins, failures first, newest first."""
    ensure_admin(actor)
    stmt = sa.select(Reminder)
    if status:
        stmt = stmt.where(Reminder.status == status)
    if channel:
        stmt = stmt.where(Reminder.channel == channel)
    return stmt.order_by((Reminder.status == "failed").desc(), Reminder.created_at.desc(), Reminder.id.desc())


def failed_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Reminder).where(Reminder.status == "failed")) or 0
