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
    ("en", "Cannot be before Issued on (2024-06-01)", ("issued_on", "不能早于")),
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
    (404, "/no-such-page", "GET"), (405, "/lang/en", "TRACE"), (400, "/lang/en", "POST"), (500, "/_test/boom", "GET"),
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


# --- a record's history ----------------------------------------------------------------

INTERNAL_NAME = re.compile(r"(?<![\w/.-])[a-z]+(?:_[a-z]+)+(?![\w/.-])")


def history_of(page: str) -> str:
    return page[page.index('<section class="history">'):].split("</section>")[0]


@pytest.mark.parametrize("lang, words", [
    ("zh_Hans_CN", ("已创建", "由 2026年12月5日 的导入修改", "建标单位", "有效期至", "2030年1月31日", "测量范围", "系统")),
    ("en", ("Created", "Changed by the import of Dec 5, 2026", "Holder", "Valid until", "Jan 31, 2030",
            "Measurement range", "System")),
])
def test_history_shows_labels_and_readable_values_never_internal_names(client, auth, users, session, lang, words):
    from datetime import datetime, timezone

    from registry.audit.models import AuditEvent
    from registry.audit.services import event_values
    from registry.standards.services import register_standard, update_standard

    standard = register_standard({"certificate_no": "[2024]赣量标证字第0101号", "name": "历史测试装置",
                                  "category": "social_public", "institution_id": users.own.id,
                                  "issued_on": "2024-02-01", "range_text": "(0~10) MPa", "status": "in_use"},
                                 actor=users.regulator)
    session.flush()
    update_standard(standard, {"valid_until": "2030-01-31", "institution_id": users.other_institution.id,
                               "range_text": "(0~60) MPa"}, actor=None, expected_version=standard.version)
    session.flush()
    session.add(AuditEvent(**event_values("update", "measurement_standards", standard.id, actor=users.institution,
                                          before={"issuer": None}, after={"issuer": "江西省市场监督管理局"},
                                          note="导入 import: 标准.xlsx"),
                           occurred_at=datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)))  # as the importer writes
    session.commit()
    auth.login_session(users.regulator)
    use_language(client, lang)
    history = history_of(text(client.get(f"/standards/{standard.id}")))
    for word in words:
        assert word in history, (word, history)
    assert users.other_institution.name in history and users.own.name in history
    leaked = {name for name in INTERNAL_NAME.findall(re.sub(r"<[^>]+>", " ", history))}
    assert not leaked, leaked
    for raw in ("range_lower", "institution_id", ">update<", ">create<", "system"):
        assert raw not in history


@pytest.mark.parametrize("lang, first", [("zh_Hans_CN", "强检项目建标覆盖率"), ("en", "Mandatory-verification")])
def test_indicator_names_come_in_the_pages_language_first(client, auth, users, lang, first):
    auth.login_session(users.regulator)
    use_language(client, lang)
    page = text(client.get("/dashboard"))
    row = page[page.index('<tr data-indicator="mandatory_item_coverage">'):].split("</th>")[0]
    shown = re.sub(r"<[^>]+>", " ", row).split()
    assert shown[0].startswith(first), shown[:6]


@pytest.mark.parametrize("accept, expected", [
    (None, {"published_on": "日期无效（应为 YYYY-MM-DD）", "bogus": "未知字段"}),
    ("en", {"published_on": "Not a valid date.", "bogus": "Unknown field."}),
])
def test_api_schema_messages_follow_the_accept_language(client, auth, users, accept, expected):
    headers = auth.headers(users.regulator)
    if accept:
        headers["Accept-Language"] = accept
    response = client.post("/api/v1/regulations", json={"code": "JJG 1-2020", "title": "x", "published_on": "soon",
                                                          "bogus": 1}, headers=headers)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {name: errors[name][0] for name in expected} == expected


@pytest.mark.parametrize("lang, title", [("zh_Hans_CN", "文件过大"), ("en", "Too large")])
def test_an_upload_too_large_gets_the_registrys_own_page(app, client, lang, title):
    use_language(client, lang)
    limit = app.config.get("MAX_CONTENT_LENGTH")
    app.config["MAX_CONTENT_LENGTH"] = 10
    try:
        response = client.post("/login", data={"email": "x" * 100})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert f"<h1>{title}</h1>" in text(response) and "Request Entity Too Large" not in text(response)
