"""A gap expanded to its candidates, and the public certificate check, in a real browser (1366 and 390 px)."""
from __future__ import annotations

import re

import pytest

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

CITIES = ("360100", "360200", "360300", "360400", "360500", "360600", "360700", "360800", "360900", "361000",
          "361100")


def test_a_gap_expands_to_the_institutions_that_could_close_it(pages):
    pages.login("regulator")
    page = pages.page
    for city in CITIES:
        page.goto(f"/dashboard?region={city}#gaps")
        with_candidates = page.locator("ul.gap-lines details.gap-candidates").filter(has=page.locator("ol.candidates"))
        if with_candidates.count():
            break
    else:
        pytest.fail("the demo province should have a city gap with a candidate")
    gap = with_candidates.first
    candidates = gap.locator("ol.candidates > li")
    expect(candidates.first).to_be_hidden()  # closed until asked: <details>, no script
    gap.locator("summary").click()
    expect(candidates.first).to_be_visible()
    reasons = [candidates.nth(i).get_attribute("data-reason") for i in range(candidates.count())]
    order = ["lapsed", "enterprise_highest", "neighbour", "discipline"]
    assert reasons == sorted(reasons, key=order.index), reasons
    summary = gap.locator("summary").inner_text()
    assert re.search(r"可补空白的机构 \d+ 家", summary)
    _section_screenshot(page, "gap-candidates-zh")

    page.get_by_role("link", name="English").click()
    gap = page.locator("ul.gap-lines details.gap-candidates").filter(has=page.locator("ol.candidates")).first
    gap.locator("summary").click()
    expect(gap.locator("ol.candidates > li").first).to_be_visible()
    assert "could close it" in gap.locator("summary").inner_text()
    _section_screenshot(page, "gap-candidates-en")
    page.get_by_role("link", name="中文").click()


def _section_screenshot(page, name: str) -> None:
    """Only the gaps card: the whole dashboard is too tall to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#gaps").screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _first_number(page) -> str:
    page.goto("/public/")
    return page.locator("table.public-results tbody tr td.cert").first.inner_text().strip()


def test_the_public_page_is_reached_from_a_number_typed_without_brackets(pages):
    page = pages.page
    stored = _first_number(page)  # e.g. [2024]赣量标演示证字第00012号
    year, body, serial = re.match(r"\[(\d{4})\](.*第)0*(\d+)号", stored).groups()
    typed = f"{year}{body}{serial}号"  # no brackets, no leading zeros
    page.get_by_label("名称、证书编号或建标单位").fill(typed)
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    rows = page.locator("table.public-results tbody tr")
    expect(rows).to_have_count(1)
    assert rows.first.locator("td.cert").inner_text().strip() == stored
    rows.first.locator("a.public-link").click()
    page.wait_for_load_state()
    assert re.search(r"/public/s/[A-Za-z0-9_-]{16}$", page.url), page.url
    expect(page.get_by_test_id("certificate-no")).to_have_text(stored)
    expect(page.get_by_test_id("public-validity").locator("[data-validity]")).to_be_visible()
    qr = page.get_by_test_id("qr")
    expect(qr).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 100
    pages.screenshot("public-standard-zh")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_text("QR code of this page")).to_be_visible()
    pages.screenshot("public-standard-en")
    page.set_viewport_size({"width": 390, "height": 844})
    pages.screenshot("public-standard-en-390")
    page.get_by_role("link", name="中文").click()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_public_results_at_390_px_are_cards_with_the_validity_first(pages, language):
    page = pages.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/public/")
    if language == "en":
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")  # the English page, not the one it left
    page.wait_for_load_state("load")  # the style sheets applied before anything is measured
    rows = page.locator("table.public-results tbody tr")
    assert rows.count() >= 3
    for i in range(3):
        card = rows.nth(i)
        validity = card.locator("td.validity")
        cert = card.locator("td.cert")
        v, c, box = validity.bounding_box(), cert.bounding_box(), card.bounding_box()
        assert v["y"] < c["y"], "the validity comes first in a card"
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "a card fits the screen"
        assert v["x"] + v["width"] <= 390
        expect(validity.locator("[data-validity]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing sticks out sideways"
    expect(page.locator("table.public-results thead")).to_be_hidden()
    pages.screenshot(f"public-results-390-{language}", full_page=False)
    if language == "en":
        page.get_by_role("link", name="中文").click()
