"""A certificate changed by hand (form, API) keeps the certificate history: renewals add, corrections update.

The rule (``registry.standards.services.CertificateChanges``): an issue date moved later adds the
new certificate (the old row stays); any other change of number, issue date or validity corrects
the row of the certificate in force (matched by the old number and issue date), or adds it when
none is recorded.  The import's bulk update follows the same rule (tests/importers/test_certificate_updates.py).
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.applications import services
from registry.applications.models import StandardCertificate
from registry.errors import StaleEdit, ValidationError
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from registry.standards.services import (
    certificate_change,
    register_standard,
    update_standard,
)
from tests import factories
from tests.applications.support import NEW_ISSUED, in_state
from tests.test_pages import csrf_from

OLD_NO, NEW_NO = "[2022]赣量标证字第901号", "[2026]赣量标证字第901号"


def history(standard_id: int) -> list[tuple]:
    """``(number, issued, valid until, application)`` of each history row, oldest issue first."""
    return [tuple(row) for row in db.session.execute(
        sa.select(StandardCertificate.certificate_no, StandardCertificate.issued_on, StandardCertificate.valid_until,
                  StandardCertificate.application_id)
        .where(StandardCertificate.standard_id == standard_id)
        .order_by(StandardCertificate.issued_on, StandardCertificate.id))]


@pytest.fixture
def standard(users, session):
    """Registered through the service: its certificate 2022-01-01 .. 2025-12-31 is in the history."""
    found = register_standard({"certificate_no": OLD_NO, "name": "证书历史标准", "category": "social_public",
                               "institution_id": users.own.id, "issued_on": "2022-01-01",
                               "valid_until": "2025-12-31"}, actor=users.regulator)
    session.commit()
    return found


FIRST = (OLD_NO, date(2022, 1, 1), date(2025, 12, 31), None)


# --- the rule, through the service ----------------------------------------------------------------


@pytest.mark.parametrize("values, kind", [
    ({"issued_on": date(2026, 1, 1)}, "renewal"),
    ({"issued_on": date(2021, 6, 1)}, "correction"),
    ({"certificate_no": NEW_NO}, "correction"),
    ({"valid_until": date(2026, 1, 31)}, "correction"),
    ({"issued_on": date(2022, 1, 1), "valid_until": date(2025, 12, 31)}, None),
    ({"name": "别的名称"}, None),
])
def test_certificate_change_tells_a_renewal_from_a_correction(values, kind):
    stored = MeasurementStandard(certificate_no=OLD_NO, issued_on=date(2022, 1, 1), valid_until=date(2025, 12, 31))
    assert certificate_change(values, stored) == kind
    assert certificate_change(values, None) is None


def test_a_renewal_typed_by_hand_adds_the_new_certificate_and_keeps_the_old(users, standard):
    update_standard(standard, {"certificate_no": NEW_NO, "issued_on": "2026-01-01", "valid_until": "2029-12-31"},
                    actor=users.regulator, expected_version=standard.version)
    assert history(standard.id) == [FIRST, (NEW_NO, date(2026, 1, 1), date(2029, 12, 31), None)]


def test_a_renewal_keeping_the_number_adds_a_row(users, standard):
    update_standard(standard, {"issued_on": "2025-11-01", "valid_until": "2029-10-31"},
                    actor=users.regulator, expected_version=None)
    assert history(standard.id) == [FIRST, (OLD_NO, date(2025, 11, 1), date(2029, 10, 31), None)]


def test_a_number_typo_corrected_updates_the_current_row(users, standard):
    update_standard(standard, {"certificate_no": NEW_NO}, actor=users.regulator, expected_version=None)
    assert history(standard.id) == [(NEW_NO, date(2022, 1, 1), date(2025, 12, 31), None)]


def test_a_validity_typo_corrected_updates_the_current_row(users, standard):
    update_standard(standard, {"valid_until": "2025-12-30"}, actor=users.regulator, expected_version=None)
    assert history(standard.id) == [(OLD_NO, date(2022, 1, 1), date(2025, 12, 30), None)]


def test_an_issue_date_moved_earlier_updates_the_current_row(users, standard):
    update_standard(standard, {"issued_on": "2021-12-01"}, actor=users.regulator, expected_version=None)
    assert history(standard.id) == [(OLD_NO, date(2021, 12, 1), date(2025, 12, 31), None)]


def test_only_the_current_row_is_corrected(users, standard):
    update_standard(standard, {"certificate_no": NEW_NO, "issued_on": "2026-01-01", "valid_until": "2029-12-31"},
                    actor=users.regulator, expected_version=None)
    update_standard(standard, {"valid_until": "2029-12-30"}, actor=users.regulator, expected_version=None)
    assert history(standard.id) == [FIRST, (NEW_NO, date(2026, 1, 1), date(2029, 12, 30), None)]


def test_a_correction_with_no_row_recorded_adds_the_corrected_certificate(users, session):
    standard = factories.standard(users.own, issued_on=date(2024, 1, 1), valid_until=date(2027, 12, 31))
    assert history(standard.id) == []  # written behind the services' back
    update_standard(standard, {"valid_until": "2027-12-30"}, actor=users.regulator, expected_version=None)
    assert history(standard.id) == [(standard.certificate_no, date(2024, 1, 1), date(2027, 12, 30), None)]


def test_a_renewal_with_no_row_recorded_keeps_the_old_certificate_too(users, session):
    standard = factories.standard(users.own, issued_on=date(2024, 1, 1), valid_until=date(2027, 12, 31))
    number = standard.certificate_no
    update_standard(standard, {"issued_on": "2027-06-01", "valid_until": "2031-05-31"},
                    actor=users.regulator, expected_version=None)
    assert history(standard.id) == [(number, date(2024, 1, 1), date(2027, 12, 31), None),
                                    (number, date(2027, 6, 1), date(2031, 5, 31), None)]


def test_a_renewal_undone_by_hand_leaves_the_certificate_it_restores(users, standard):
    """A renewal typed by mistake and then typed back: the mistaken row goes, no row is doubled."""
    update_standard(standard, {"certificate_no": NEW_NO, "issued_on": "2026-01-01", "valid_until": "2029-12-31"},
                    actor=users.regulator, expected_version=None)
    update_standard(standard, {"certificate_no": OLD_NO, "issued_on": "2022-01-01", "valid_until": "2025-12-30"},
                    actor=users.regulator, expected_version=None)
    assert history(standard.id) == [(OLD_NO, date(2022, 1, 1), date(2025, 12, 30), None)]


def test_an_approved_re_examinations_row_keeps_its_application_when_corrected(users, session):
    standard = register_standard({"certificate_no": OLD_NO, "name": "复查标准", "category": "social_public",
                                  "institution_id": users.own.id, "issued_on": "2024-01-01",
                                  "valid_until": "2027-12-31"}, actor=users.regulator)
    application = in_state("under_review", users, standard)
    services.decide(application, "approved", actor=users.regulator)
    first = (OLD_NO, date(2024, 1, 1), date(2027, 12, 31), None)
    assert history(standard.id) == [first, (OLD_NO, NEW_ISSUED, standard.valid_until, application.id)]
    update_standard(standard, {"certificate_no": NEW_NO, "valid_until": "2031-05-30"},
                    actor=users.regulator, expected_version=None)
    assert history(standard.id) == [first, (NEW_NO, NEW_ISSUED, date(2031, 5, 30), application.id)]


def test_other_changes_leave_the_history_alone(users, standard):
    update_standard(standard, {"name": "改名", "status": "sealed", "status_since": "2024-05-01"},
                    actor=users.regulator, expected_version=None)
    assert history(standard.id) == [FIRST]


def test_a_stale_or_invalid_edit_writes_no_history(users, standard, session):
    with pytest.raises(StaleEdit):
        update_standard(standard, {"issued_on": "2026-01-01", "valid_until": "2029-12-31"},
                        actor=users.regulator, expected_version=standard.version + 1)
    with pytest.raises(ValidationError):
        update_standard(standard, {"issued_on": "2026-01-01"}, actor=users.regulator, expected_version=None)
    session.expire_all()
    assert history(standard.id) == [FIRST]


# --- the API (If-Match) -----------------------------------------------------------------------------


def test_the_api_renews_and_corrects_under_if_match(client, auth, users, standard, session):
    headers = auth.token(users.regulator)
    url = f"/api/v1/standards/{standard.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    renewed = client.patch(url, headers={**headers, "If-Match": etag},
                           json={"certificate_no": NEW_NO, "issued_on": "2026-01-01", "valid_until": "2029-12-31"})
    assert renewed.status_code == 200, renewed.get_json()
    corrected = client.patch(url, headers={**headers, "If-Match": renewed.headers["ETag"]},
                             json={"valid_until": "2029-12-30"})
    assert corrected.status_code == 200, corrected.get_json()
    session.expire_all()
    assert history(standard.id) == [FIRST, (NEW_NO, date(2026, 1, 1), date(2029, 12, 30), None)]


def test_a_stale_or_invalid_api_edit_writes_no_history(client, auth, users, standard, session):
    headers = auth.token(users.regulator)
    url = f"/api/v1/standards/{standard.id}"
    stale = client.patch(url, headers={**headers, "If-Match": f'"{standard.version + 1}"'},
                         json={"issued_on": "2026-01-01", "valid_until": "2029-12-31"})
    assert stale.status_code == 412
    invalid = client.patch(url, headers={**headers, "If-Match": f'"{standard.version}"'},
                           json={"issued_on": "2026-01-01", "valid_until": "2025-12-31"})
    assert invalid.status_code == 422
    session.expire_all()
    assert history(standard.id) == [FIRST]
    assert session.get(MeasurementStandard, standard.id).issued_on == date(2022, 1, 1)


# --- the page form ------------------------------------------------------------------------------------


def form_of(standard, **changes) -> dict:
    data = {"certificate_no": standard.certificate_no, "name": standard.name, "code": "",
            "category": standard.category, "discipline_code": "", "institution_id": standard.institution_id,
            "range_text": "", "uncertainty_text": "", "issuer": "", "issued_on": standard.issued_on.isoformat(),
            "valid_until": standard.valid_until.isoformat(), "responsible_person": "", "status": standard.status,
            "status_since": "", "build_kind": "", "built_on": "", "catalog_lines": "", "regulations": "",
            "version": standard.version}
    data.update(changes)
    return data


def test_the_form_renews_and_the_page_shows_the_history(client, auth, users, standard, session):
    auth.login_session(users.regulator)
    token = csrf_from(client.get(f"/standards/{standard.id}/edit"))
    response = client.post(f"/standards/{standard.id}/edit", data=form_of(
        standard, certificate_no=NEW_NO, issued_on="2026-01-01", valid_until="2029-12-31", csrf_token=token))
    assert response.status_code == 302
    session.expire_all()
    assert history(standard.id) == [FIRST, (NEW_NO, date(2026, 1, 1), date(2029, 12, 31), None)]
    page = client.get(f"/standards/{standard.id}").get_data(as_text=True)
    section = page[page.index('data-testid="certificate-history"'):]
    section = section[:section.index("</section>")]
    assert section.index(NEW_NO) < section.index(OLD_NO)  # newest first
    assert "2029年12月31日" in section and "2025年12月31日" in section
    assert section.count("data-current") == 1


def test_the_form_corrects_the_current_row(client, auth, users, standard, session):
    auth.login_session(users.institution)
    token = csrf_from(client.get(f"/standards/{standard.id}/edit"))
    response = client.post(f"/standards/{standard.id}/edit",
                           data=form_of(standard, certificate_no=NEW_NO, csrf_token=token))
    assert response.status_code == 302
    session.expire_all()
    assert history(standard.id) == [(NEW_NO, date(2022, 1, 1), date(2025, 12, 31), None)]


def test_a_stale_or_invalid_form_edit_writes_no_history(client, auth, users, standard, session):
    auth.login_session(users.regulator)
    token = csrf_from(client.get(f"/standards/{standard.id}/edit"))
    stale = form_of(standard, issued_on="2026-01-01", valid_until="2029-12-31", csrf_token=token)
    first = client.post(f"/standards/{standard.id}/edit", data=form_of(standard, name="他人的修改", csrf_token=token))
    assert first.status_code == 302
    assert client.post(f"/standards/{standard.id}/edit", data=stale).status_code == 409
    session.expire_all()
    current = session.get(MeasurementStandard, standard.id)
    invalid = client.post(f"/standards/{standard.id}/edit", data=form_of(
        current, issued_on="2026-01-01", valid_until="2025-12-31", csrf_token=token))
    assert invalid.status_code == 422
    session.expire_all()
    assert history(standard.id) == [FIRST]
