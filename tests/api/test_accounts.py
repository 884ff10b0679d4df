"""Accounts: tokens, throttling, ending sessions, passwords, CSRF and security headers."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

import config
from registry import create_app
from registry.auth.models import ApiToken, User
from registry.auth.services import (
    InvalidCredentials,
    authenticate,
    change_password,
    end_sessions,
    set_user_active,
    user_for_token,
    validate_password,
)
from registry.database.base import utcnow
from registry.errors import ValidationError
from registry.extensions import db
from tests.factories import PASSWORD


def _token(client, email, password=PASSWORD, **extra):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password, **extra})


def test_token_for_email_and_password_is_stored_only_as_a_hash(client, users, session):
    response = _token(client, users.regulator.email.upper(), name="nightly export")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["token"].startswith("msr_") and body["expires_at"] and body["name"] == "nightly export"
    stored = session.get(ApiToken, body["id"])
    assert body["token"] not in (stored.token_hash, stored.name) and len(stored.token_hash) == 64
    assert stored.expires_at - stored.created_at == timedelta(hours=12)
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["email"] == users.regulator.email and "X-CSRFToken" not in me.headers
    assert session.get(User, users.regulator.id).last_login_at is not None


@pytest.mark.parametrize("email, password", [("nobody@example.org", PASSWORD), (None, "wrong password 123")])
def test_bad_credentials_get_one_generic_answer(client, users, email, password):
    response = _token(client, email or users.regulator.email, password)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "邮箱或密码错误，或账号已停用"


def test_inactive_user_cannot_get_a_token(client, users, session):
    users.regulator.active = False
    session.commit()
    assert _token(client, users.regulator.email).status_code == 401


def test_sixth_attempt_in_a_minute_on_one_account_is_throttled(client, users):
    statuses = [_token(client, users.regulator.email, "wrong password 123").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    throttled = _token(client, users.regulator.email)  # even the right password waits
    assert throttled.status_code == 429 and throttled.mimetype == "application/problem+json"
    assert throttled.headers["Retry-After"] == "60"  # the window of LOGIN_LIMIT_PER_ACCOUNT, as documented
    assert _token(client, users.admin.email).status_code == 201  # another account is not affected


def test_attempts_from_one_address_are_throttled_across_accounts(client, users):
    statuses = [_token(client, f"guess{n}@example.org", "wrong password 123").status_code for n in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_expired_and_revoked_tokens_stop_working(client, auth, users, session):
    headers = auth.token(users.regulator)
    assert client.get("/api/v1/regions", headers=headers).status_code == 200
    token = session.scalars(sa.select(ApiToken).where(ApiToken.user_id == users.regulator.id)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert client.get("/api/v1/regions", headers=headers).status_code == 401

    second = auth.token(users.regulator)
    listed = client.get("/api/v1/auth/tokens", headers=second).get_json()
    assert len(listed) == 1 and "token" not in listed[0] and "token_hash" not in listed[0]
    assert client.delete(f"/api/v1/auth/tokens/{listed[0]['id']}", headers=second).status_code == 204
    assert client.get("/api/v1/regions", headers=second).status_code == 401


def test_another_users_token_cannot_be_revoked(client, auth, users, session):
    auth.token(users.admin)
    theirs = session.scalars(sa.select(ApiToken).where(ApiToken.user_id == users.admin.id)).one()
    response = client.delete(f"/api/v1/auth/tokens/{theirs.id}", headers=auth.token(users.regulator))
    assert response.status_code == 404
    assert session.get(ApiToken, theirs.id).revoked_at is None


def test_logout_everywhere_ends_sessions_and_tokens(client, auth, users, app):
    token = auth.token(users.regulator)
    browser = app.test_client()
    with browser.session_transaction() as sess:
        sess["_user_id"] = users.regulator.get_id()
    assert browser.get("/api/v1/auth/me").status_code == 200
    assert client.delete("/api/v1/auth/sessions", headers=token).status_code == 204
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    assert browser.get("/api/v1/auth/me").status_code == 401


def test_password_change_ends_other_sessions_and_tokens(client, auth, users, app):
    token, other_token = auth.token(users.institution), auth.token(users.institution)
    browser = app.test_client()
    with browser.session_transaction() as sess:
        sess["_user_id"] = users.institution.get_id()
    wrong = client.post("/api/v1/auth/password", headers=token,
                        json={"current_password": "not it at all", "new_password": "a fresh long passphrase"})
    assert wrong.status_code == 422 and "current_password" in wrong.get_json()["errors"]
    changed = client.post("/api/v1/auth/password", headers=token,
                          json={"current_password": PASSWORD, "new_password": "a fresh long passphrase"})
    assert changed.status_code == 204
    assert client.get("/api/v1/auth/me", headers=other_token).status_code == 401
    assert browser.get("/api/v1/auth/me").status_code == 401
    assert _token(client, users.institution.email).status_code == 401
    assert _token(client, users.institution.email, "a fresh long passphrase").status_code == 201


def test_deactivation_ends_sessions_and_tokens(client, auth, users):
    victim = auth.token(users.institution)
    admin = auth.token(users.admin)
    user = client.get(f"/api/v1/users/{users.institution.id}", headers=admin)
    response = client.patch(f"/api/v1/users/{users.institution.id}",
                            headers={**admin, "If-Match": user.headers["ETag"]}, json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert client.get("/api/v1/auth/me", headers=victim).status_code == 401


@pytest.mark.parametrize("password", ["short", "password1234", "PASSWORD1234", "aaaaaaaaaaaaaaaa",
                                      "someone.long@example.org", "someone.long"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password, email="someone.long@example.org")


def test_a_good_password_is_accepted():
    validate_password("correct horse battery staple", email="someone@example.org")


def test_services_used_by_the_login_page(users, session):
    user = authenticate(f" {users.regulator.email.upper()} ", PASSWORD, remote_addr="192.0.2.1")
    assert user.id == users.regulator.id and user.last_login_at is not None
    version = user.version
    with pytest.raises(InvalidCredentials):
        authenticate(users.regulator.email, "wrong password 123", remote_addr=None)
    epoch = user.session_epoch
    end_sessions(user)
    assert user.session_epoch == epoch + 1 and user.version == version + 1
    change_password(user, PASSWORD, "a fresh long passphrase", actor=user)
    assert user.session_epoch == epoch + 2 and user.check_password("a fresh long passphrase")
    set_user_active(user, False, actor=users.admin)
    with pytest.raises(InvalidCredentials):
        authenticate(user.email, "a fresh long passphrase", remote_addr=None)
    assert user_for_token("msr_not-a-token") is None


def test_login_session_helper_starts_a_fresh_session(app, users):
    from flask import session

    from registry.security import login_session

    with app.test_request_context("/"):
        session["planted"] = "by an attacker before login"
        login_session(users.regulator)
        assert "planted" not in session and session["_user_id"] == users.regulator.get_id()


# --- CSRF ---------------------------------------------------------------------------


def test_cookie_authenticated_api_writes_need_a_csrf_token(client, auth, users):
    auth.login_session(users.regulator)
    payload = {"code": "JJG(赣) 955-2024", "title": "CSRF 测试"}
    refused = client.post("/api/v1/regulations", json=payload)
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    assert "CSRF" in refused.get_json()["detail"]
    assert client.get("/api/v1/regulations?q=CSRF").get_json() == []
    token = auth.csrf_token()
    accepted = client.post("/api/v1/regulations", json=payload, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.get_json()


def test_bearer_requests_need_no_csrf_token(client, auth, users):
    response = client.post("/api/v1/regulations", headers=auth.token(users.regulator),
                           json={"code": "JJG(赣) 956-2024", "title": "Bearer 测试"})
    assert response.status_code == 201


def test_page_forms_need_a_csrf_token(client):
    response = client.post("/")
    assert response.status_code == 400 and "请刷新页面后重新提交" in response.get_data(as_text=True)


# --- Headers and cookies --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/v1/regions", "/api/openapi.json", "/api/docs", "/no-such-page"])
def test_security_headers_on_pages_and_api(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert len(response.headers["X-Request-ID"]) == 32
    assert "Strict-Transport-Security" not in response.headers


def test_pages_have_no_inline_styles_or_scripts(client):
    for path in ("/", "/api/docs"):
        page = client.get(path).get_data(as_text=True)
        assert "<style" not in page and "style=" not in page
        assert "<script>" not in page


def test_api_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "https://" not in page and "http://" not in page
    for asset in ("vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css", "api-docs.js"):
        assert f"/static/{asset}" in page
        assert client.get(f"/static/{asset}").status_code == 200
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/v1/standards" in spec["paths"]


def test_hsts_and_secure_cookies_only_in_production(tmp_path, monkeypatch, app):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    production = config.Config()
    production.SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
    prod_app = create_app(production)
    assert prod_app.config["SESSION_COOKIE_SECURE"] and prod_app.config["SESSION_COOKIE_HTTPONLY"]
    assert prod_app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = prod_app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    dev = config.DevelopmentConfig()
    assert dev.HSTS_SECONDS == 0 and not dev.SESSION_COOKIE_SECURE
    with prod_app.app_context():
        db.engine.dispose()
