"""Apply-by windows on a hand-built province: apply now (overdue or not), expired, the lines a lapse loses."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from registry.coverage.renewals import APPLY_NOW, EXPIRED, latest_expiry_applying_by, renewals
from registry.coverage.services import reexamination_apply_by
from registry.errors import NotFound, ValidationError
from tests import factories
from tests.statements import counted

AS_OF = date(2025, 6, 30)
DAY = timedelta(days=1)


def numbers(listing) -> list[str]:
    return [item.standard.certificate_no for item in listing.items]


@pytest.fixture
def province(catalog):
    """Certificates on both sides of every boundary of 2025-06-30 with the default 6-month lead and window."""
    nanchang = factories.institution(region_code="360100")
    other_nanchang = factories.institution(region_code="360100")
    jiujiang = factories.institution(region_code="360400")
    l1 = factories.catalog_line(catalog, code="L1")
    l2 = factories.catalog_line(catalog, code="L2")
    l3 = factories.catalog_line(catalog, code="L3")

    def cert(number, holder, valid_until, **fields):
        return factories.standard(holder, certificate_no=f"[2021]赣量标测证字第{number}号", valid_until=valid_until,
                                  issued_on=date(2021, 1, 1), **fields)

    return {
        # Apply-by 2025-06-30 (today): apply now, not overdue.
        "today": cert(1, nanchang, date(2025, 12, 31), lines=[l1]),
        # Apply-by 2025-06-29: overdue, still valid.
        "overdue": cert(2, nanchang, date(2025, 12, 29), lines=[l2]),
        # Expires today: still valid, overdue.
        "last_day": cert(3, jiujiang, AS_OF, lines=[l1]),
        # Apply-by 2025-12-30 = today + 6 months: the window's last day.
        "window_end": cert(4, jiujiang, date(2026, 6, 30)),
        # Apply-by 2025-12-31: after the window.
        "after": cert(5, nanchang, date(2026, 7, 1)),
        # Expired yesterday, still in use: expired.
        "expired": cert(6, nanchang, AS_OF - DAY, lines=[l3]),
        # Expired and sealed: neither list.
        "sealed": cert(7, nanchang, AS_OF - DAY, status="sealed", status_since=date(2025, 1, 1)),
        # Withdrawn: neither list.
        "withdrawn": cert(8, nanchang, date(2025, 9, 30), withdrawn_at=factories.withdrawn_at()),
        # Not yet issued: not valid on the date.
        "future": factories.standard(other_nanchang, certificate_no="[2025]赣量标测证字第9号",
                                     issued_on=date(2025, 7, 1), valid_until=date(2025, 12, 1)),
        # Another Nanchang holder keeps L1 covered until 2026: "today" losing L1 does not lose it for Nanchang.
        "keeper": cert(10, other_nanchang, date(2027, 1, 1), lines=[l1]),
        "lines": (l1, l2, l3),
        "holders": (nanchang, other_nanchang, jiujiang),
    }


def test_the_apply_now_window_at_its_boundaries(province):
    listing = renewals(AS_OF)
    assert listing.window == APPLY_NOW and listing.lead_months == 6 and listing.months == 6
    assert listing.apply_by_until == date(2025, 12, 30)
    assert listing.expiring_until == date(2026, 6, 30)
    # Sorted by apply-by date, soonest first.
    assert numbers(listing) == ["[2021]赣量标测证字第3号", "[2021]赣量标测证字第2号", "[2021]赣量标测证字第1号",
                                "[2021]赣量标测证字第4号"]
    assert [item.apply_by for item in listing.items] == [
        date(2024, 12, 30), date(2025, 6, 29), date(2025, 6, 30), date(2025, 12, 30)]
    assert [item.overdue for item in listing.items] == [True, True, False, False]
    assert (listing.apply_now_total, listing.overdue_total, listing.expired_total) == (4, 2, 1)
    assert listing.total == 4


def test_the_expired_window_lists_certificates_still_in_use(province):
    listing = renewals(AS_OF, window=EXPIRED)
    assert numbers(listing) == ["[2021]赣量标测证字第6号"]
    assert listing.total == 1 and listing.items[0].apply_by == date(2024, 12, 29)
    assert listing.items[0].overdue is False


def test_a_wider_window_reaches_further(province):
    listing = renewals(AS_OF, months=7)
    assert listing.apply_by_until == date(2026, 1, 30)
    assert "[2021]赣量标测证字第5号" in numbers(listing)


def test_a_longer_lead_moves_every_apply_by_date(app, province):
    app.config["REEXAMINATION_LEAD_MONTHS"] = 12
    try:
        listing = renewals(AS_OF, months=6)
    finally:
        app.config["REEXAMINATION_LEAD_MONTHS"] = 6
    assert listing.lead_months == 12 and listing.expiring_until == date(2026, 12, 30)
    assert listing.items[1].apply_by == date(2024, 12, 29)


def test_the_lines_a_lapse_would_lose_in_the_holders_city(province):
    l1, l2, _ = province["lines"]
    items = {item.standard.certificate_no: item for item in renewals(AS_OF).items}
    # Nanchang's L1 is kept by another Nanchang holder valid beyond; L2 has nobody else.
    assert [line.code for line in items["[2021]赣量标测证字第1号"].lines_at_risk] == []
    assert [line.code for line in items["[2021]赣量标测证字第2号"].lines_at_risk] == ["L2"]
    # Jiujiang's L1: the Nanchang holders do not serve Jiujiang.
    assert [line.code for line in items["[2021]赣量标测证字第3号"].lines_at_risk] == ["L1"]
    assert items["[2021]赣量标测证字第3号"].city == "360400"
    expired = renewals(AS_OF, window=EXPIRED).items[0]
    assert [line.code for line in expired.lines_at_risk] == ["L3"]


def test_a_holder_serving_the_province_keeps_the_line(province):
    l1 = province["lines"][0]
    provincial = factories.institution(region_code="360000", serves_region_code="360000")
    factories.standard(provincial, lines=[l1], issued_on=date(2021, 1, 1), valid_until=date(2028, 1, 1))
    items = {item.standard.certificate_no: item for item in renewals(AS_OF).items}
    assert items["[2021]赣量标测证字第3号"].lines_at_risk == []


def test_a_covering_standard_expiring_first_does_not_keep_the_line(province):
    l2 = province["lines"][1]
    factories.standard(province["holders"][1], lines=[l2], issued_on=date(2021, 1, 1), valid_until=date(2025, 12, 1))
    items = {item.standard.certificate_no: item for item in renewals(AS_OF).items}
    assert [line.code for line in items["[2021]赣量标测证字第2号"].lines_at_risk] == ["L2"]


def test_a_region_and_an_institution_narrow_the_lists(province):
    nanchang, _, jiujiang = province["holders"]
    assert numbers(renewals(AS_OF, "360400")) == ["[2021]赣量标测证字第3号", "[2021]赣量标测证字第4号"]
    mine = renewals(AS_OF, institution_id=nanchang.id)
    assert numbers(mine) == ["[2021]赣量标测证字第2号", "[2021]赣量标测证字第1号"]
    assert (mine.apply_now_total, mine.overdue_total, mine.expired_total) == (2, 1, 1)
    assert renewals(AS_OF, "360100", institution_id=jiujiang.id).total == 0


def test_pages_of_a_list(province):
    first = renewals(AS_OF, limit=3)
    second = renewals(AS_OF, limit=3, offset=3)
    assert numbers(first) + numbers(second) == numbers(renewals(AS_OF))
    assert first.total == second.total == 4


def test_bad_arguments_are_refused(province):
    with pytest.raises(ValidationError):
        renewals(AS_OF, window="soon")
    with pytest.raises(ValidationError):
        renewals(AS_OF, limit=0)
    with pytest.raises(ValidationError):
        renewals(AS_OF, months=-1)
    with pytest.raises(NotFound):
        renewals(AS_OF, institution_id=99_999_999)


def test_a_fixed_number_of_queries_whatever_the_page(province):
    renewals(AS_OF, limit=1)
    with counted() as one:
        renewals(AS_OF, limit=1)
    with counted() as many:
        renewals(AS_OF, limit=100)
    assert len(one) == len(many)


@pytest.mark.parametrize("region", [None, "360100", "360400"])
def test_the_totals_alone_are_the_lists_totals(province, region):
    """What the dashboard reads (``totals_only``): the same totals as the lists, no page, and two statements fewer."""
    full = renewals(AS_OF, region)
    expired = renewals(AS_OF, region, window=EXPIRED)
    with counted() as alone:
        totals = renewals(AS_OF, region, totals_only=True)
    with counted() as listed:
        renewals(AS_OF, region)
    assert (totals.apply_now_total, totals.overdue_total, totals.expired_total, totals.total) == (
        full.apply_now_total, full.overdue_total, full.expired_total, full.total)
    assert totals.expired_total == expired.total and totals.items == []
    assert full.total > 0 or region == "360400"
    assert len(alone) <= len(listed) - 2


def test_the_expiry_bound_matches_the_apply_by_rule():
    for lead in (1, 6, 12):
        day = date(2023, 12, 1)
        while day < date(2025, 3, 1):
            bound = latest_expiry_applying_by(day, lead)
            assert reexamination_apply_by(bound, lead) <= day < reexamination_apply_by(bound + DAY, lead), (day, lead)
            day += DAY
    assert latest_expiry_applying_by(date(2026, 2, 28), 6) == date(2026, 8, 31)
    assert latest_expiry_applying_by(date(2025, 8, 30), 6) == date(2026, 2, 28)
