"""The English application pages name one standard "Standard" (the menu's "Standards" is the list of them)."""
from __future__ import annotations

import re

import pytest

from registry.applications import services
from tests.pages.test_application_pages import (  # noqa: F401
    document_storage,
    login,
    reexamination,
    text,
)


def _main(page: str) -> str:
    return page[page.index("<main"):page.index("</main>")]


@pytest.mark.parametrize("who, path", [
    ("institution", "/applications/?group=waiting"),
    ("regulator", "/applications/queue"),
    ("institution", "/applications/{id}"),
    ("institution", "/applications/new?kind=reexamination"),
])
def test_one_standard_is_a_standard_in_english(client, auth, users, session, who, path):
    application = reexamination(users)
    login(client, auth, getattr(users, who))
    client.get("/lang/en")
    response = client.get(path.format(id=application.id))
    assert response.status_code == 200
    main = _main(text(response))
    assert re.search(r">\s*Standard\s*<", main), "no 'Standard' label"
    assert not re.search(r"\bStandards\b", main)
    if "queue" in path:
        assert re.search(r"Days waiting: \d+", main)
    if "?group" in path:
        assert "Page 1 of 1 · 1 record<" in main  # one record, not "1 records"


def test_the_chinese_pages_keep_their_words(client, auth, users, session):
    reexamination(users)
    login(client, auth, users.regulator)
    main = _main(text(client.get("/applications/queue")))
    assert ">计量标准<" in main and re.search(r"已等待 \d+ 天", main)


def test_a_replacement_asks_whether_the_range_changed_in_words_that_answer(client, auth, users, session):
    from tests import factories

    standard = factories.standard(users.own)
    application = services.create_draft({"kind": "replacement", "standard_id": standard.id}, actor=users.institution)
    session.commit()
    login(client, auth, users.institution)
    client.get("/lang/en")
    main = _main(text(client.get(f"/applications/{application.id}/details")))
    assert "Unchanged" in main and ">Changed<" in main
