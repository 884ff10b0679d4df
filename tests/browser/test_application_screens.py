"""The application pages (list, new, one application, queue) as an institution and a regulator, in Chinese and
English, at 1366 and 390 wide: each fits its width, says one standard as "Standard", and is kept as a screenshot."""
from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from registry.extensions import db

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% browser test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def submitted(live_server, tmp_path_factory):
    """A submitted re-examination of one of the institution's standards, its documents uploaded."""
    import sqlalchemy as sa

    from registry.applications import services
    from registry.auth.models import User
    from registry.documents.storage import LocalStorage
    from registry.standards.models import MeasurementStandard

    app = live_server.app
    app.extensions["registry.documents"] = LocalStorage(str(tmp_path_factory.mktemp("screens-documents")))
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "own@example.test"))
        standard = db.session.scalar(sa.select(MeasurementStandard).where(
            MeasurementStandard.institution_id == live_server.accounts.own).order_by(MeasurementStandard.id))
        application = services.create_draft({"kind": "reexamination", "standard_id": standard.id,
                                             "proposal": {}}, actor=user)
        for kind in services.REQUIRED_DOCUMENTS["reexamination"]:
            services.add_document(application, kind, io.BytesIO(PDF), f"{kind}.pdf", actor=user)
        services.submit(application, actor=user)
        db.session.commit()
        found = application.id
        db.session.remove()
    return found


SCREENS = {
    "institution": ("/applications/", "/applications/new", "/applications/{id}"),
    "regulator": ("/applications/", "/applications/new", "/applications/{id}", "/applications/queue"),
}


@pytest.mark.parametrize("role", ["institution", "regulator"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_application_pages_fit_and_speak_one_language(pages, submitted, role, lang):
    page = pages.page
    pages.login(role)
    if lang == "en":
        page.goto("/lang/en")
    for path in SCREENS[role]:
        page.goto(path.format(id=submitted))
        expect(page.locator("main h1")).to_be_visible()
        crumb = page.locator("main .breadcrumb a").first
        if path != "/applications/" and crumb.count() and "queue" not in (crumb.get_attribute("href") or ""):
            # The list a regulator returns to is everyone's, an institution's its own.
            expect(crumb).to_have_text({"institution": {"zh": "我的申请", "en": "My applications"},
                                        "regulator": {"zh": "全部申请", "en": "All applications"}}[role][lang])
        main = page.locator("main").inner_text()
        if lang == "en":
            assert not re.search(r"\bStandards\b", main), (path, main[:500])
        name = path.strip("/").replace("/", "-").replace("{id}", "one") or "list"
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), \
                (path, width)
            # Nor does a table hide columns behind a scroll bar of its own (each stacks on a phone).
            assert page.evaluate("() => [...document.querySelectorAll('main .table-wrap')]"
                                 ".every(wrap => wrap.scrollWidth <= wrap.clientWidth + 1)"), (path, width)
            pages.screenshot(f"application-screens-{role}-{lang}-{name}-{width}")
        page.set_viewport_size({"width": 1366, "height": 900})
