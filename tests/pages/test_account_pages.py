"""Account pages: one's own password and the admins' account pages, through the test client."""
from __future__ import annotations

import re

import pytest

from registry.extensions import db
from tests import factories
from tests.test_pages import csrf_from

NEW_PASSWORD = "Plenty-long-and-new-2026"


def field_errors(page: str, field: str) -> str:
    """The error list rendered next to ``field`` (empty when there is none)."""
    match = re.search(rf'<ul class="field-errors" id="{field}-errors">(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


def change(client, **data):
    token = csrf_from(client.get("/account/password"))
    return client.post("/account/password", data={"csrf_token": token, **data})


@pytest.mark.parametrize("data, field, message", [
    ({"current_password": "not the password!", "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD},
     "current_password", "当前密码不正确"),
    ({"current_password": factories.PASSWORD, "new_password": "Short-1", "new_password_repeat": "Short-1"},
     "new_password", "至少12个字符"),
    ({"current_password": factories.PASSWORD, "new_password": "password1234", "new_password_repeat": "password1234"},
     "new_password", "过于常见"),
    ({"current_password": factories.PASSWORD, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD + "x"},
     "new_password_repeat", "不一致"),
])
def test_password_change_refusals_show_next_to_the_field_and_change_nothing(client, users, auth, data, field,
                                                                           message):
    auth.login_session(users.regulator)
    hash_before, epoch_before = users.regulator.password_hash, users.regulator.session_epoch
    response = change(client, **data)
    assert response.status_code == 422
    assert message in field_errors(response.get_data(as_text=True), field)
    db.session.refresh(users.regulator)
    assert users.regulator.password_hash == hash_before and users.regulator.session_epoch == epoch_before


def test_password_change_ends_other_sessions_and_tokens_and_keeps_this_browser(app, client, users, auth):
    bearer = auth.token(users.regulator)
    other_browser = app.test_client()
    auth.login_session(users.regulator)
    with other_browser.session_transaction() as sess:
        sess["_user_id"] = users.regulator.get_id()
    assert users.regulator.email in other_browser.get("/").get_data(as_text=True)

    response = change(client, current_password=factories.PASSWORD, new_password=NEW_PASSWORD,
                      new_password_repeat=NEW_PASSWORD)
    assert response.status_code == 302

    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert users.regulator.email not in other_browser.get("/").get_data(as_text=True)
    assert users.regulator.email in client.get("/").get_data(as_text=True)
    assert client.get("/account/password").status_code == 200
    db.session.refresh(users.regulator)
    assert users.regulator.check_password(NEW_PASSWORD)


def test_password_page_needs_a_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["regulator", "institution"])
@pytest.mark.parametrize("url", ["/admin/users", "/admin/users/new", "/admin/users/{id}"])
def test_account_admin_pages_are_for_admins_only(client, users, auth, role, url):
    auth.login_session(getattr(users, role))
    assert client.get(url.format(id=users.admin.id)).status_code == 404


def test_admin_post_by_a_regulator_is_not_found(client, users, auth):
    auth.login_session(users.regulator)
    token = csrf_from(client.get("/"))
    response = client.post(f"/admin/users/{users.institution.id}",
                           data={"csrf_token": token, "role": "regulator", "version": users.institution.version})
    assert response.status_code == 404
    db.session.refresh(users.institution)
    assert users.institution.role == "institution"


def test_user_list_searches_and_filters_in_sql(client, users, auth):
    auth.login_session(users.admin)
    page = client.get("/admin/users", query_string={"q": users.regulator.email}).get_data(as_text=True)
    assert users.regulator.email in page and users.institution.email not in page
    page = client.get("/admin/users", query_string={"role": "institution", "page_size": 100}).get_data(as_text=True)
    assert users.institution.email in page and users.regulator.email not in page
    assert users.own.name in page


def test_create_user_with_a_bad_credit_code_shows_the_error_next_to_the_field(client, users, auth):
    from registry.auth.models import User

    auth.login_session(users.admin)
    token = csrf_from(client.get("/admin/users/new"))
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "email": "new.person@example.org", "role": "institution",
        "institution": "91360100MA35XXXX1A", "password": NEW_PASSWORD})
    assert response.status_code == 422
    assert "统一社会信用代码" in field_errors(response.get_data(as_text=True), "institution")
    assert db.session.scalar(db.select(User).where(User.email == "new.person@example.org")) is None


def test_create_user_then_they_can_log_in(app, client, users, auth):
    auth.login_session(users.admin)
    token = csrf_from(client.get("/admin/users/new"))
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "email": "New.Person@example.org", "role": "institution",
        "institution": users.own.credit_code, "password": NEW_PASSWORD, "display_name": "新人"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "new.person@example.org" in page and users.own.name in page

    newcomer = app.test_client()
    token = csrf_from(newcomer.get("/login"))
    response = newcomer.post("/login", data={"email": "new.person@example.org", "password": NEW_PASSWORD,
                                             "csrf_token": token})
    assert response.status_code == 302


def edit(client, user, **changes):
    token = csrf_from(client.get(f"/admin/users/{user.id}"))
    data = {"csrf_token": token, "role": user.role, "version": user.version, "display_name": user.display_name or "",
            "credit_code": user.institution.credit_code if user.institution else "", "active": "y"}
    data.update(changes)
    return client.post(f"/admin/users/{user.id}", data={k: v for k, v in data.items() if v is not None})


def test_deactivating_a_user_ends_their_sessions(app, client, users, auth):
    their_browser = app.test_client()
    with their_browser.session_transaction() as sess:
        sess["_user_id"] = users.regulator.get_id()
    assert users.regulator.email in their_browser.get("/").get_data(as_text=True)

    auth.login_session(users.admin)
    response = edit(client, users.regulator, active=None)
    assert response.status_code == 302
    db.session.refresh(users.regulator)
    assert users.regulator.active is False
    assert users.regulator.email not in their_browser.get("/").get_data(as_text=True)
    assert "停用" in client.get(f"/admin/users/{users.regulator.id}").get_data(as_text=True)


def test_stale_edit_is_refused(client, users, auth):
    from registry.auth.services import update_user

    auth.login_session(users.admin)
    token = csrf_from(client.get(f"/admin/users/{users.regulator.id}"))
    stale_version = users.regulator.version
    update_user(users.regulator, {"display_name": "别人改过"}, actor=users.admin, expected_version=None)
    db.session.commit()

    response = client.post(f"/admin/users/{users.regulator.id}", data={
        "csrf_token": token, "role": "admin", "version": stale_version, "display_name": "我的修改", "active": "y"})
    assert response.status_code == 422
    assert "已被他人修改" in response.get_data(as_text=True)
    db.session.refresh(users.regulator)
    assert users.regulator.role == "regulator" and users.regulator.display_name == "别人改过"


def test_role_change_to_institution_needs_a_credit_code(client, users, auth):
    auth.login_session(users.admin)
    response = edit(client, users.regulator, role="institution", credit_code="")
    assert response.status_code == 422
    assert "机构" in field_errors(response.get_data(as_text=True), "credit_code")


def test_edit_shows_the_history(client, users, auth):
    auth.login_session(users.admin)
    assert edit(client, users.regulator, display_name="改名后").status_code == 302
    page = client.get(f"/admin/users/{users.regulator.id}").get_data(as_text=True)
    assert "改名后" in page and users.admin.email in page.split("历史记录", 1)[1]


def test_admin_resets_a_password(app, client, users, auth):
    bearer = auth.token(users.regulator)
    auth.login_session(users.admin)
    token = csrf_from(client.get(f"/admin/users/{users.regulator.id}"))
    response = client.post(f"/admin/users/{users.regulator.id}/password",
                           data={"csrf_token": token, "password": "short"})
    assert response.status_code == 422
    assert "至少12个字符" in field_errors(response.get_data(as_text=True), "password")

    response = client.post(f"/admin/users/{users.regulator.id}/password",
                           data={"csrf_token": token, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401
    db.session.refresh(users.regulator)
    assert users.regulator.check_password(NEW_PASSWORD)
