"""The line form's levels and the institution form's service area, in both languages."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from registry.catalog.models import CatalogLine
from registry.institutions.models import Institution
from tests import factories
from tests.pages.support import field_errors, post_form


def test_a_line_is_given_levels_on_its_form_and_shows_them(client, auth, users, session):
    auth.login_session(users.admin)
    version = factories.catalog_version(name="层级页面目录", effective_from=date(2001, 1, 1))
    session.commit()
    response = client.post(f"/catalog/{version.id}/lines/new", data={
        **_form(client, f"/catalog/{version.id}/lines/new"), "code": "1", "name": "水表", "mode": "V",
        "levels": ["county", "city"]})
    assert response.status_code == 302
    line = session.scalar(sa.select(CatalogLine).where(CatalogLine.catalog_version_id == version.id))
    assert line.levels == "city,county"
    page = client.get(f"/catalog/lines/{line.id}").get_data(as_text=True)
    assert "市级、县级" in page
    edit = client.get(f"/catalog/lines/{line.id}/edit").get_data(as_text=True)
    chosen = {value for value in ("province", "city", "county")
              if re.search(rf'<option[^>]*(selected[^>]*value="{value}"|value="{value}"[^>]*selected)', edit)}
    assert chosen == {"city", "county"}


def _form(client, url):
    from tests.pages.support import form_values
    values = form_values(client.get(url))
    values.pop("levels", None)
    return values


def test_a_provincial_institute_is_registered_serving_the_province(client, auth, users, session):
    auth.login_session(users.regulator)
    code = factories.credit_code("360100")
    response = post_form(client, "/institutions/new", {"credit_code": code, "name": "省计量院", "region_code": "360100",
                                                       "serves_region_code": "360000", "kind": "legal_metrology"})
    assert response.status_code == 302
    institute = session.scalar(sa.select(Institution).where(Institution.credit_code == code))
    assert institute.serves_region_code == "360000"
    assert "服务区域" in client.get(response.headers["Location"]).get_data(as_text=True)

    other = factories.credit_code("360100")
    response = post_form(client, "/institutions/new", {"credit_code": other, "name": "某所", "region_code": "360100",
                                                       "serves_region_code": "360400", "kind": "legal_metrology"})
    assert response.status_code == 422 and field_errors(response, "serves_region_code")
    assert session.scalar(sa.select(Institution).where(Institution.credit_code == other)) is None


def test_an_unknown_level_on_the_line_form_is_refused_and_nothing_is_written(client, auth, users, session):
    auth.login_session(users.admin)
    version = factories.catalog_version(name="未知层级目录", effective_from=date(2001, 1, 1))
    session.commit()
    response = client.post(f"/catalog/{version.id}/lines/new", data={
        **_form(client, f"/catalog/{version.id}/lines/new"), "code": "1", "name": "水表", "mode": "V",
        "levels": ["city", "town"]})
    assert response.status_code in (400, 422)
    assert field_errors(response, "levels")
    assert session.scalar(sa.select(sa.func.count()).select_from(CatalogLine)
                          .where(CatalogLine.catalog_version_id == version.id)) == 0
