"""Each coverage warning is in the user's language only: Chinese by default, English when chosen, never both."""
from __future__ import annotations

import re
from datetime import date

import pytest

from registry.coverage.services import coverage_report, institution_share
from registry.extensions import db
from registry.indicators.models import Indicator
from tests import factories

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"\b(?:the|catalog|coverage|lines?|indicator|recorded|partial)\b", re.IGNORECASE)


@pytest.fixture
def warned(catalog):
    """A partial catalog (fewer lines loaded than declared) and a 'registry' indicator nobody counts."""
    catalog.declared_line_count = 9
    catalog.is_partial = True
    factories.catalog_line(catalog)
    db.session.add(Indicator(key="made_up_count", name="虚构指标", name_en="Made-up count", kind="count",
                             source="registry", position=99))
    db.session.commit()


def _api_warnings(client, auth, users, lang: str | None, **query) -> list[str]:
    auth.login_session(users.regulator)
    if lang:
        client.get(f"/lang/{lang}")
    body = client.get("/api/v1/coverage", query_string=query).get_json()
    return body["warnings"]


def test_warnings_are_chinese_by_default(client, auth, users, warned):
    warnings = _api_warnings(client, auth, users, None, as_of="2025-06-30")
    assert len(warnings) == 2
    assert any("made_up_count" in w and "改用录入值" in w for w in warnings)
    assert any("（部分目录）仅载入 1 条，声明 9 条" in w for w in warnings)
    assert not any(LATIN_WORD.search(w) for w in warnings), warnings


def test_warnings_are_english_when_chosen(client, auth, users, warned):
    warnings = _api_warnings(client, auth, users, "en", as_of="2025-06-30")
    assert "(partial) holds 1 of its 9 declared lines; coverage reflects the loaded lines only." in " ".join(warnings)
    assert any(w.startswith("Indicator made_up_count is marked as counted from the registry") for w in warnings)
    # Only the catalog's own name (data) may be in Chinese.
    assert not any(HAN.search(w.replace("测试目录", "")) for w in warnings
                   if "catalog" not in w), warnings


def test_no_catalog_in_force_is_said_in_one_language(client, auth, users, warned):
    zh = _api_warnings(client, auth, users, None, as_of="1990-01-01")
    assert "1990-01-01 无生效的强检目录，覆盖率无法计算。" in zh
    en = _api_warnings(client, auth, users, "en", as_of="1990-01-01")
    assert "No mandatory-verification catalog is in force on 1990-01-01: coverage cannot be computed." in en


def test_outside_a_request_the_cli_gets_chinese(app, warned, users):
    report = coverage_report(date(1990, 1, 1))
    assert "1990-01-01 无生效的强检目录，覆盖率无法计算。" in report.warnings
    share = institution_share(date(2025, 6, 30), users.own.id)
    assert share.warnings == ["强检目录「" + share.catalog.name + "」（部分目录）仅载入 "
                              f"{share.catalog.loaded_line_count} 条，声明 9 条，覆盖率只反映已载入的条目。"]
