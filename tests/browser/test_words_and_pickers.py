"""One language per page: a form with errors, a record's history, the 404 page and the pickers, in both languages.

Each is looked at as a screenshot at a laptop width (1366 px) and a phone width (390 px).
"""
from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from registry.extensions import db

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")
MIXED = re.compile(r"[\u4e00-\u9fff][^\n]*\s/\s+[A-Za-z]{3,}")
LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}
WIDTHS = (1366, 390)
_serial = itertools.count(1)


def make_standard(live_server, holder_id: int, name: str) -> int:
    from registry.standards.services import register_standard, update_standard

    with live_server.app.app_context():
        standard = register_standard({"certificate_no": f"[2025]赣量标证字第{7700 + next(_serial)}号", "name": name,
                                      "category": "social_public", "institution_id": holder_id,
                                      "issued_on": date(2025, 2, 1), "range_text": "(0~10) MPa"}, actor=None)
        db.session.flush()
        update_standard(standard, {"valid_until": date(2029, 6, 30), "range_text": "(0~60) MPa"}, actor=None,
                        expected_version=standard.version)
        db.session.commit()
        standard_id = standard.id
        db.session.remove()
    return standard_id


def use(page, lang: str) -> None:
    page.goto(f"/lang/{LANGUAGES[lang]}?next=/")


def shots(pages, name: str) -> None:
    """The page at each width, saved for a person to look at."""
    for width in WIDTHS:
        pages.page.set_viewport_size({"width": width, "height": 900})
        pages.screenshot(f"{name}-{width}")
    pages.page.set_viewport_size({"width": 1366, "height": 900})


def main_text(page) -> str:
    return page.locator("main").inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_form_with_errors_speaks_one_language_and_names_fields_by_label(pages, live_server, lang):
    standard_id = make_standard(live_server, live_server.accounts.own, f"浏览器表单错误装置{lang}")
    pages.login("institution")
    page = pages.page
    use(page, lang)
    page.goto(f"/standards/{standard_id}/edit")
    page.locator("input[name=name]").fill("")
    page.locator("form.record button[type=submit]").click()
    name_error = page.locator("#name-errors")
    expect(name_error).to_be_visible()  # the form's own check: the name is required
    assert bool(CJK.search(name_error.inner_text())) == (lang == "zh"), name_error.inner_text()

    page.locator("input[name=name]").fill(f"浏览器表单错误装置{lang}")
    page.locator("input[name=valid_until]").fill("2024-01-01")
    page.locator("form.record button[type=submit]").click()
    errors = page.locator("#valid_until-errors")  # the service's rule, named by the form's label
    expect(errors).to_be_visible()
    text = errors.inner_text()
    if lang == "zh":
        assert "不能早于发证日期" in text
    else:
        assert "Cannot be before Issued on" in text and not CJK.search(text)
    assert "issued_on" not in text and not MIXED.search(main_text(page))
    shots(pages, f"form-errors-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_records_history_shows_labels_and_readable_values(pages, live_server, lang):
    standard_id = make_standard(live_server, live_server.accounts.own, f"浏览器历史装置{lang}")
    pages.login("regulator")
    page = pages.page
    use(page, lang)
    page.goto(f"/standards/{standard_id}")
    history = page.locator("section.history")
    expect(history).to_be_visible()
    text = history.inner_text()
    for word in (("已创建", "已修改", "系统", "有效期至", "2029年6月30日", live_server.accounts.own_name) if lang == "zh"
                 else ("Created", "Changed", "System", "Valid until", "Jun 30, 2029", live_server.accounts.own_name)):
        assert word in text, (word, text)
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text
    assert "update" not in text and "system" not in text
    history.scroll_into_view_if_needed()
    shots(pages, f"history-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_404_page_is_the_registrys_own(pages, lang):
    pages.login("institution")
    page = pages.page
    use(page, lang)
    response = page.goto("/dashboard")
    assert response.status in (403, 404)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == ("页面不存在" if lang == "zh" else "Page not found")
    body = main_text(page)
    assert "The requested URL" not in body and bool(CJK.search(body)) == (lang == "zh")
    shots(pages, f"not-found-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pickers_are_used_from_the_keyboard(pages, lang):
    pages.login("institution")
    page = pages.page
    use(page, lang)
    page.goto("/standards/new")
    lines = page.locator("input[name=catalog_lines]")
    lines.click()
    lines.press_sequentially("衡器", delay=30)
    listbox = page.locator("#catalog_lines-suggestions")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option")).to_have_count(2)  # 非自动衡器, 自动衡器
    lines.press("ArrowDown")
    lines.press("ArrowDown")
    expect(listbox.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    shots(pages, f"picker-lines-{lang}")
    lines.press("Enter")
    expect(listbox).to_be_hidden()
    assert re.fullmatch(r"S0[23]；", lines.input_value()), lines.input_value()
    lines.press_sequentially("体温", delay=30)
    expect(listbox.get_by_role("option")).to_have_count(1)
    lines.press("Escape")
    expect(listbox).to_be_hidden()
    assert lines.input_value().endswith("；体温")  # Escape keeps what was typed

    regulations = page.locator("input[name=regulations]")
    regulations.click()
    regulations.press_sequentially("jjg(赣)10", delay=30)
    options = page.locator("#regulations-suggestions").get_by_role("option")
    expect(options.first).to_be_visible()
    first = options.first.inner_text().split(" ", 1)
    regulations.press("ArrowDown")
    regulations.press("Enter")
    assert regulations.input_value().startswith(first[0])
    assert page.url.endswith("/standards/new")  # Enter took a suggestion; it did not submit the form
