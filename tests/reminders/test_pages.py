"""The inbox, the header's unread count, the settings and the admins' sent-log, as each role sees them."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from registry.extensions import db
from registry.reminders import services
from registry.reminders.models import Reminder
from tests import factories
from tests.statements import counted

NOW = datetime(2026, 12, 30, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def reminded(app, users, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path))
    standard = factories.standard(users.own, issued_on=date(2024, 7, 1), valid_until=date(2028, 6, 30),
                                  certificate_no="[2024]赣量标测证字第00078号")
    db.session.commit()
    services.run(date(2026, 12, 30), now=NOW)
    return standard


def test_the_inbox_shows_the_reminder_in_the_readers_language(client, auth, users, reminded):
    auth.login_session(users.institution)
    page = client.get("/inbox").get_data(as_text=True)
    assert "请在 2027年12月30日 前申请复查：[2024]赣量标测证字第00078号" in page
    assert 'data-testid="unread">1<' in page
    client.get("/lang/en")
    page = client.get("/inbox").get_data(as_text=True)
    assert "Apply for re-examination by December 30, 2027: [2024]赣量标测证字第00078号" in page
    assert "请在" not in page


def test_opening_a_message_marks_it_read_and_leads_to_the_standard(client, auth, users, reminded):
    auth.login_session(users.institution)
    (message,) = db.session.query(Reminder).filter_by(channel="inbox").all()
    response = client.post(f"/inbox/{message.id}/open", data={"csrf_token": auth.csrf_token()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/standards/{reminded.id}")
    assert services.unread_count(users.institution) == 0
    assert 'class="badge"' not in client.get("/inbox").get_data(as_text=True)


def test_another_users_message_is_not_found(client, auth, users, reminded):
    auth.login_session(users.other)
    (message,) = db.session.query(Reminder).filter_by(channel="inbox").all()
    assert client.post(f"/inbox/{message.id}/open", data={"csrf_token": auth.csrf_token()}).status_code == 404
    db.session.refresh(message)
    assert message.read_at is None


def test_read_all(client, auth, users, reminded):
    auth.login_session(users.institution)
    assert client.post("/inbox/read", data={"csrf_token": auth.csrf_token()}).status_code == 302
    assert services.unread_count(users.institution) == 0


def test_settings_are_saved(client, auth, users):
    auth.login_session(users.institution)
    assert client.get("/inbox/settings").status_code == 200
    response = client.post("/inbox/settings", data={"csrf_token": auth.csrf_token(), "kinds": ["registration_lapsing"],
                                                    "language": "en"})
    assert response.status_code == 302
    chosen = services.settings(users.institution)
    muted = ["certificate_apply_by", "application_returned", "application_decided", "rectification_due",
             "application_overdue"]
    assert (chosen.muted_kinds, chosen.email, chosen.language) == (muted, False, "en")
    bad = client.post("/inbox/settings", data={"csrf_token": auth.csrf_token(), "kinds": ["nonsense"],
                                               "language": "en"})
    assert bad.status_code == 422
    assert services.settings(users.institution).muted_kinds == muted


@pytest.mark.parametrize("role, status", [("admin", 200), ("regulator", 404), ("institution", 404)])
def test_the_sent_log_is_for_admins(client, auth, users, reminded, role, status):
    auth.login_session(getattr(users, role))
    response = client.get("/admin/reminders")
    assert response.status_code == status
    if status == 200:
        assert users.institution.email in response.get_data(as_text=True)


def test_failed_mails_are_shown_to_admins_first(client, auth, users, reminded):
    mail = db.session.query(Reminder).filter_by(channel="email").one()
    mail.status, mail.last_error = "failed", "554 refused"
    db.session.commit()
    auth.login_session(users.admin)
    page = client.get("/admin/reminders").get_data(as_text=True)
    assert 'data-testid="failed-count"' in page and "554 refused" in page


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/inbox").status_code == 302


@pytest.mark.parametrize("url, role", [("/inbox", "institution"), ("/admin/reminders", "admin")])
def test_the_lists_make_a_fixed_number_of_queries(client, auth, users, url, role):
    holder = users.own
    for n in range(60):
        factories.standard(holder, issued_on=date(2024, 7, 1), valid_until=date(2028, 6, 30))
    db.session.commit()
    services.record_due(date(2026, 12, 30), now=NOW)
    db.session.commit()
    auth.login_session(getattr(users, role))
    client.get(f"{url}?page_size=25")
    with counted() as small:
        small_page = client.get(f"{url}?page_size=25").get_data(as_text=True)
    with counted() as large:
        large_page = client.get(f"{url}?page_size=100").get_data(as_text=True)
    marker = "<tr" if url == "/admin/reminders" else 'class="inbox-item'
    assert large_page.count(marker) > small_page.count(marker) > 0
    assert len(small) == len(large)
