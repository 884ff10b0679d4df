"""The page layout, languages and signing in, through the test client."""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests.browser.conftest import PASSWORD  # noqa: F401  (one password rule for page tests)



def csrf_from(response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def test_login_page_is_chinese_by_default_and_english_on_request(client):
    page = client.get("/login").get_data(as_text=True)
    assert "<h1>登录</h1>" in page and 'lang="zh-Hans"' in page
    client.get("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert "<h1>Log in</h1>" in page and 'lang="en"' in page


def test_language_switch_never_redirects_off_site(client):
    response = client.get("/lang/en?next=https://evil.example/x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_with_the_right_password_signs_in_and_regenerates_the_session(client, users, session):
    from registry.auth.services import reset_password

    reset_password(users.regulator, PASSWORD, actor=None)
    session.commit()
    token = csrf_from(client.get("/login"))
    response = client.post("/login?next=/healthz", data={"email": users.regulator.email, "password": PASSWORD,
                                                         "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/healthz"
    assert users.regulator.email in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x"])
def test_login_never_redirects_off_site(client, users, session, next_url):
    from registry.auth.services import reset_password

    reset_password(users.admin, PASSWORD, actor=None)
    session.commit()
    token = csrf_from(client.get("/login"))
    response = client.post("/login", query_string={"next": next_url},
                           data={"email": users.admin.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_wrong_password_answers_the_form_with_one_generic_message(client, users):
    token = csrf_from(client.get("/login"))
    response = client.post("/login", data={"email": users.admin.email, "password": "wrong-password-123",
                                           "csrf_token": token})
    assert response.status_code == 422
    assert "邮箱或密码不正确" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, users):
    response = client.post("/login", data={"email": users.admin.email, "password": PASSWORD})
    assert response.status_code == 400


def test_logout_ends_the_session(client, users, auth):
    auth.login_session(users.regulator)
    token = csrf_from(client.get("/"))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert users.regulator.email not in client.get("/").get_data(as_text=True)


def test_demo_label_shows_on_every_page_when_demo_data_is_loaded(client, session):
    from tests import factories

    assert "demo-banner" not in client.get("/login").get_data(as_text=True)
    factories.institution(is_demo=True)
    session.commit()
    assert "demo-banner" in client.get("/login").get_data(as_text=True)


LIST_PAGES = ["/standards/", "/institutions/", "/personnel/", "/catalog/", "/catalog/{version}", "/regulations/",
              "/public/?q=演示", "/public/regulations?q=JJG", "/admin/users", "/imports",
              "/dashboard/expiring?as_of=2025-06-30"]


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**63), "0", "-3", "x"])
@pytest.mark.parametrize("url", LIST_PAGES)
def test_every_list_page_clamps_a_page_out_of_range(client, auth, users, session, url, page):
    from registry.imports.models import ImportRun
    from tests import factories

    version = factories.catalog_version()
    factories.catalog_line(version)
    factories.standard(users.own, name="演示标准", issued_on=date(2024, 1, 1), valid_until=date(2025, 8, 31))
    factories.person(users.own)
    factories.regulation()
    session.add(ImportRun(actor_id=users.admin.id, actor_label=users.admin.email, filename="清单.xlsx",
                          status="previewed", dry_run=True))
    session.commit()
    auth.login_session(users.admin)
    url = url.format(version=version.id)
    response = client.get(f"{url}{'&' if '?' in url else '?'}page={page}")
    assert response.status_code == 200
    shown = re.search(r"第 (\d+) / (\d+) 页", response.get_data(as_text=True))
    assert shown is not None, "the page has no pager"
    assert shown.group(1) == shown.group(2) == "1"  # one page of records: every page number shows it
