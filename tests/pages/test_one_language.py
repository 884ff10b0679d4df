"""Each message in the user's language only, fields called by their labels, the registry's own error pages."""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests import factories
from tests.pages.support import field_errors, post_form

CJK = re.compile(r"[\u4e00-\u9fff]")


def text(response) -> str:
    return response.get_data(as_text=True)


def use_language(client, code: str) -> None:
    client.get(f"/lang/{code}")


@pytest.mark.parametrize("lang, expected, unwanted", [
    ("zh_Hans_CN", "不能早于发证日期（2024-06-01）", ("issued_on", "cannot be before")),
    ("en", "cannot be before Issued on (2024-06-01)", ("issued_on", "不能早于")),
])
def test_a_date_order_error_names_the_field_by_its_label_in_one_language(client, auth, users, session, lang,
                                                                          expected, unwanted):
    standard = factories.standard(users.own, issued_on=date(2024, 6, 1), valid_until=date(2029, 5, 31))
    session.commit()
    auth.login_session(users.institution)
    use_language(client, lang)
    url = f"/standards/{standard.id}/edit"
    response = post_form(client, url, {"valid_until": "2024-01-01"})
    assert response.status_code in (200, 422)
    errors = field_errors(response, "valid_until")
    assert expected in errors, errors
    for word in unwanted:
        assert word not in errors


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_a_required_field_is_reported_in_the_pages_language(client, auth, users, session, lang):
    standard = factories.standard(users.own)
    session.commit()
    auth.login_session(users.institution)
    use_language(client, lang)
    errors = field_errors(post_form(client, f"/standards/{standard.id}/edit", {"name": ""}), "name")
    assert errors
    assert bool(CJK.search(errors)) == (lang != "en"), errors


@pytest.mark.parametrize("lang, title, unwanted", [
    ("zh_Hans_CN", "页面不存在", "Not Found"),
    ("en", "Page not found", "页面不存在"),
])
def test_an_institution_user_opening_the_dashboard_gets_the_registrys_own_page(client, auth, users, lang, title,
                                                                               unwanted):
    auth.login_session(users.institution)
    use_language(client, lang)
    response = client.get("/dashboard")
    assert response.status_code in (403, 404)
    page = text(response)
    assert title in page or "无权访问" in page or "Access denied" in page
    assert "The requested URL" not in page and "You don't have the permission" not in page
    assert unwanted not in page


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("status, url, method", [
    (404, "/no-such-page", "GET"), (405, "/lang/en", "TRACE"), (400, "/lang/en", "POST"),
])
def test_error_pages_are_the_registrys_own_in_each_language(client, lang, status, url, method):
    use_language(client, lang)
    response = client.open(url, method=method)
    assert response.status_code == status
    page = text(response)
    main = page[page.index('<section class="error-page">'):]
    assert "werkzeug" not in page.lower() and "The requested URL" not in page and "The method is not" not in page
    assert bool(CJK.search(main.split("</section>")[0])) == (lang != "en")


@pytest.mark.parametrize("accept, expected, unwanted", [
    (None, "记录不存在", "not found"), ("en", "not found", "记录不存在"), ("zh-CN,zh;q=0.9", "记录不存在", "not found"),
])
def test_api_problems_speak_the_accept_language_chinese_by_default(client, auth, users, accept, expected, unwanted):
    headers = auth.headers(users.regulator)
    if accept:
        headers["Accept-Language"] = accept
    problem = client.get("/api/v1/standards/999999", headers=headers).get_json()
    assert expected in problem["detail"] and unwanted not in problem["detail"]


@pytest.mark.parametrize("accept", [None, "en"])
def test_api_field_errors_speak_one_language(client, auth, users, accept):
    headers = auth.headers(users.regulator)
    if accept:
        headers["Accept-Language"] = accept
    response = client.post("/api/v1/regulations", json={"code": "JJG 1-2020", "title": "x", "published_on": "2020-05-01",
                                                          "implemented_on": "2020-01-01"}, headers=headers)
    assert response.status_code == 422, response.get_json()
    messages = " ".join(m for ms in response.get_json()["errors"].values() for m in ms)
    assert bool(CJK.search(messages)) == (accept is None), messages
