"""A standard's status history and certificate history on its page, as each role, in both languages, both widths.

The standard was sealed from 2021-03-01 to 2021-09-01 (in use again since) and
renewed by hand on 2023-06-01 with no gap: the page lists the sealed period with
its dates, both certificates with the one in force marked, and the validity on a
date inside the sealed period is 封存 / Sealed.
"""
from __future__ import annotations

import itertools
from datetime import date

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from registry.extensions import db

pytestmark = pytest.mark.browser

_serial = itertools.count(1)


def _standard_with_history(live_server) -> tuple[int, str, str]:
    from registry.standards.models import MeasurementStandard
    from registry.standards.services import register_standard, update_standard
    from registry.standards.validity import validity

    n = next(_serial)
    old_no, new_no = f"[2019]赣量标证字第{9700 + n}号", f"[2023]赣量标证字第{9700 + n}号"
    with live_server.app.app_context():
        standard = register_standard({"certificate_no": old_no, "name": f"浏览器历史装置{n}",
                                      "category": "social_public", "institution_id": live_server.accounts.own,
                                      "issued_on": date(2019, 6, 1), "valid_until": date(2023, 5, 31)}, actor=None)
        db.session.commit()
        for data in ({"status": "sealed", "status_since": date(2021, 3, 1)},
                     {"status": "in_use", "status_since": date(2021, 9, 1)},
                     {"certificate_no": new_no, "issued_on": date(2023, 6, 1), "valid_until": date(2027, 5, 31)}):
            update_standard(standard, data, actor=None, expected_version=None)
            db.session.commit()
        standard = db.session.get(MeasurementStandard, standard.id)
        assert validity(standard, date(2021, 5, 1)) == "sealed"
        assert validity(standard, date(2022, 5, 1)) == "valid"  # the renewal kept the run from 2019
        standard_id = standard.id
        db.session.remove()
    return standard_id, old_no, new_no


@pytest.mark.parametrize(("role", "lang", "width"), [("regulator", "zh", 1366), ("regulator", "en", 390),
                                                      ("institution", "en", 1366), ("institution", "zh", 390)])
def test_the_standard_page_shows_its_status_and_certificate_history(pages, live_server, role, lang, width):
    standard_id, old_no, new_no = _standard_with_history(live_server)
    page = pages.page
    page.set_viewport_size({"width": width, "height": 900})
    pages.login(role)
    if lang == "en":
        page.goto("/lang/en")
    page.goto(f"/standards/{standard_id}")

    def day(value: date) -> str:  # as the pages write a date (the ``date`` filter: Babel's medium style)
        return format_date(value, "medium", locale=lang)

    statuses = page.get_by_test_id("status-history")
    expect(statuses.get_by_role("heading")).to_have_text("Status history" if lang == "en" else "状态历史")
    sealed = statuses.locator("tr[data-period-status=sealed]")
    expect(sealed).to_have_count(1)
    expect(sealed).to_contain_text(day(date(2021, 3, 1)))
    expect(sealed).to_contain_text(day(date(2021, 9, 1)))
    expect(sealed).to_contain_text("Sealed" if lang == "en" else "封存")
    expect(statuses.locator("tr[data-current=true]")).to_contain_text(day(date(2021, 9, 1)))

    certificates = page.get_by_test_id("certificate-history")
    expect(certificates.get_by_role("heading")).to_have_text(
        "Certificate history" if lang == "en" else "证书历史")
    expect(certificates.locator("tbody tr")).to_have_count(2)
    current = certificates.locator("tr[data-current=true]")
    expect(current).to_contain_text(new_no)
    expect(certificates.locator("tbody tr").filter(has_text=old_no)).to_contain_text(day(date(2023, 5, 31)))

    # Nothing sticks out sideways on a phone: the page is as wide as the window.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the window"
    # ... and no table hides columns behind a scroll bar of its own (the histories stack on a phone).
    assert page.evaluate("() => [...document.querySelectorAll('.table-wrap')]"
                         ".every(wrap => wrap.scrollWidth <= wrap.clientWidth + 1)")
    pages.screenshot(f"standard-histories-{role}-{lang}-{width}")
