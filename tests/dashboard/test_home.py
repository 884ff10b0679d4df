"""The institution home: its own records only, what to renew and by when, its share in the province."""
from __future__ import annotations

from datetime import date

import pytest

from registry.coverage import services
from registry.coverage.renewals import renewals
from tests import factories
from tests.dashboard.conftest import section, text


@pytest.fixture
def today_province(session, users):
    """Standards dated around today (the home page is always for today)."""
    from registry.records.dates import add_months

    today = date.today()
    catalog = factories.catalog_version(effective_from=date(2021, 1, 1), declared_line_count=2)
    a, b = factories.catalog_line(catalog, code="HA"), factories.catalog_line(catalog, code="HB")
    soon = factories.standard(users.own, lines=[a], issued_on=date(2022, 1, 1), valid_until=add_months(today, 2))
    later = factories.standard(users.own, lines=[b], issued_on=date(2022, 1, 1), valid_until=add_months(today, 5))
    lasting = factories.standard(users.own, lines=[b], issued_on=date(2022, 1, 1), valid_until=add_months(today, 30))
    expired = factories.standard(users.own, issued_on=date(2019, 1, 1), valid_until=add_months(today, -1))
    theirs = factories.standard(users.other_institution, lines=[b], issued_on=date(2022, 1, 1),
                                valid_until=add_months(today, 3))
    factories.person(users.own)
    factories.person(users.own)
    factories.person(users.other_institution)
    session.commit()
    return dict(soon=soon, later=later, lasting=lasting, expired=expired, theirs=theirs, a=a, b=b)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_staff_going_home_land_on_the_dashboard(client, users, auth):
    auth.login_session(users.regulator)
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def test_the_home_shows_only_the_institutions_own_certificates(client, users, auth, today_province):
    auth.login_session(users.institution)
    response = client.get("/home")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert users.own.name in page
    table = section(page, "apply-now-table")
    assert today_province["soon"].certificate_no in table and today_province["later"].certificate_no in table
    assert today_province["lasting"].certificate_no not in table
    assert today_province["theirs"].certificate_no not in page
    listing = renewals(date.today(), institution_id=users.own.id)
    assert [item.standard.certificate_no for item in listing.items] == [
        today_province["soon"].certificate_no, today_province["later"].certificate_no]
    # The apply-now list comes first on the page, before the counts.
    assert page.index('data-testid="home-apply-now"') < page.index('data-testid="standards-count"')


def test_the_home_says_when_to_apply_for_re_examination(client, users, auth, today_province):
    auth.login_session(users.institution)
    page = client.get("/home").get_data(as_text=True)
    table = text(section(page, "apply-now-table"))
    # both expire within six months, so the six-months-before date has passed: apply now
    assert table.count("已过申请期") == 2
    expired = text(section(page, "expired-table"))
    assert today_province["expired"].certificate_no in expired and "已过期" in expired


def test_the_home_counts_the_institutions_standards_and_staff(client, users, auth, today_province):
    auth.login_session(users.institution)
    page = client.get("/home").get_data(as_text=True)
    standards = text(page[page.index('data-testid="standards-count"'):].split("</section>")[0])
    staff = text(page[page.index('data-testid="staff-count"'):].split("</section>")[0])
    assert " 4 " in standards and " 2 " in staff


def test_the_home_shows_the_institutions_share(client, users, auth, today_province):
    auth.login_session(users.institution)
    page = client.get("/home").get_data(as_text=True)
    share = services.institution_share(date.today(), users.own.id)
    assert (share.social_public, share.lines_covered, share.sole_in_city_count) == (3, 2, 1)
    block = page[page.index('data-testid="share"'):]
    assert f'data-own="{share.social_public}" data-province="{share.province_social_public}"' in block
    assert 'data-covered="2" data-total="2"' in block and 'data-sole="1"' in block
    assert "HA" in block.split("</dl>")[0]
    if share.catalog.loaded_line_count < share.catalog.declared_line_count:
        assert (f"已载入目录 {share.catalog.declared_line_count} 条中的 {share.catalog.loaded_line_count} 条"
                in block)


def test_the_institution_users_expiring_list_is_their_own_whatever_the_arguments(client, users, auth,
                                                                                 today_province):
    auth.login_session(users.institution)
    response = client.get(f"/dashboard/expiring?institution_id={users.other_institution.id}&region=360100")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert today_province["soon"].certificate_no in page
    assert today_province["theirs"].certificate_no not in page
    assert 'name="region"' not in page


def test_the_home_reads_in_english(client, users, auth, today_province):
    auth.login_session(users.institution)
    client.get("/lang/en")
    page = client.get("/home").get_data(as_text=True)
    for phrase in ("Apply for re-examination now", "Share in the province", "Apply-by date passed"):
        assert phrase in page, phrase


def test_the_home_lists_a_certificate_to_apply_for_now_that_expires_in_nine_months(client, users, auth, session):
    """The rule: apply six months before expiry, so a certificate expiring in 6-12 months is due now."""
    from registry.records.dates import add_months

    today = date.today()
    nine = factories.standard(users.own, issued_on=date(2022, 1, 1), valid_until=add_months(today, 9))
    thirteen = factories.standard(users.own, issued_on=date(2022, 1, 1), valid_until=add_months(today, 13))
    session.commit()
    auth.login_session(users.institution)
    table = section(client.get("/home").get_data(as_text=True), "apply-now-table")
    assert nine.certificate_no in table and thirteen.certificate_no not in table
    assert "待申请" in table and "已过申请期" not in table
