"""Reminders about applications, known answers: returned and decided to the applicant's users, a
rectification deadline within 7 days, and applications waiting past their deadline to the regulators."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from registry.applications import services
from registry.reminders import rules
from registry.reminders import services as reminders
from registry.reminders.models import Reminder
from registry.reminders.texts import render
from tests import factories
from tests.applications.conftest import store  # noqa: F401 (autouse: each test's own document folder)
from tests.applications.support import in_state


def _due(today, kind):
    return [(d.threshold, d.item_key, d.audience) for d in rules.due_on(today) if d.kind == kind]


def _sent(kind):
    return sorted((r.user_id, r.channel, r.threshold) for r in
                  reminders.db.session.scalars(sa.select(Reminder).where(Reminder.kind == kind)))


def test_returned_is_told_to_the_institution_once(users):
    application = in_state("returned", users, factories.standard(users.own))
    today = application.updated_at.date()
    due = _due(today, "application_returned")
    assert len(due) == 1 and due[0][0] == "returned" and due[0][1].startswith(f"application:{application.id}:return:")
    reminders.record_due(today)
    reminders.record_due(today)  # idempotent
    assert _sent("application_returned") == [(users.institution.id, "email", "returned"),
                                             (users.institution.id, "inbox", "returned")]
    # Resubmitted: no longer returned, nothing more is due.
    services.submit(application, actor=users.institution)
    assert _due(today, "application_returned") == []


def test_decided_is_told_within_the_window(users, app):
    application = in_state("decided", users, factories.standard(users.own))
    application.decided_at = datetime(2026, 3, 10, 8, tzinfo=timezone.utc)
    assert _due(date(2026, 3, 9), "application_decided") == []
    assert _due(date(2026, 3, 10), "application_decided") == [
        ("decided", f"application:{application.id}:decided", "institution")]
    assert _due(date(2026, 4, 9), "application_decided") != []   # 30 days on
    assert _due(date(2026, 4, 10), "application_decided") == []  # 31 days on
    subject, body = render("application_decided", "decided",
                           {"application_id": application.id, "kind": "reexamination", "decision": "rejected",
                            "reasons": "不符合要求"}, "en")
    assert subject == f"Application {application.id} (Re-examination) was decided: Rejected"
    assert f"/applications/{application.id}" in body


@pytest.mark.parametrize("today, due", [(date(2030, 1, 23), False), (date(2030, 1, 24), True),
                                        (date(2030, 1, 31), True), (date(2030, 2, 1), False)])
def test_rectification_deadline_in_seven_days(users, today, due):
    application = in_state("rectification", users, factories.standard(users.own))  # deadline 2030-01-31
    expected = [("7d", f"application:{application.id}:rectification:2030-01-31", "institution")] if due else []
    assert _due(today, "rectification_due") == expected


def test_waiting_past_the_deadline_is_told_to_the_regulators(users):
    application = in_state("submitted", users, factories.standard(users.own))
    application.submitted_at = datetime(2026, 12, 4, 9, tzinfo=timezone.utc)  # Friday: accept by Friday 11th
    assert _due(date(2026, 12, 11), "application_overdue") == []
    assert _due(date(2026, 12, 14), "application_overdue") == [
        ("overdue", f"application:{application.id}:submitted:2026-12-11", "regulators")]
    reminders.record_due(date(2026, 12, 14))
    sent = _sent("application_overdue")
    assert {user for user, _, _ in sent} == {users.regulator.id}  # not the institution, not admins
    assert {channel for _, channel, _ in sent} == {"inbox", "email"}
