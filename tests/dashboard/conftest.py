"""A small province for the page tests: two cities, four mandatory lines, standards with known dates."""
from __future__ import annotations

import re
from datetime import date
from html import unescape
from types import SimpleNamespace

import pytest

from tests import factories

AS_OF = date(2025, 6, 30)


@pytest.fixture
def province(session, users):
    """南昌 covers lines a and c; 九江 covers b (expiring 2025-09-30) and c; d is covered nowhere.

    ``users.own`` (the institution user's) is a legal metrology institute in 南昌 holding the standard on a;
    ``users.other_institution`` holds a standard in 南昌 that expires soon.
    """
    catalog = factories.catalog_version(effective_from=date(2021, 1, 1), declared_line_count=6)
    a, b, c, d = (factories.catalog_line(catalog, code=f"L{i}", name=f"测试器具{i}") for i in "ABCD")
    jiujiang = factories.institution(region_code="360400")
    own_a = factories.standard(users.own, lines=[a], valid_until=date(2028, 12, 31))
    own_soon = factories.standard(users.own, lines=[c], valid_until=date(2025, 8, 31))
    own_expired = factories.standard(users.own, lines=[], issued_on=date(2020, 1, 1), valid_until=date(2024, 12, 31))
    other_soon = factories.standard(users.other_institution, lines=[c], valid_until=date(2025, 10, 31))
    jj_b = factories.standard(jiujiang, lines=[b], valid_until=date(2025, 9, 30))
    jj_c = factories.standard(jiujiang, lines=[c], valid_until=date(2029, 6, 30))
    session.commit()
    return SimpleNamespace(catalog=catalog, lines=SimpleNamespace(a=a, b=b, c=c, d=d), jiujiang=jiujiang,
                           own_a=own_a, own_soon=own_soon, own_expired=own_expired, other_soon=other_soon,
                           jj_b=jj_b, jj_c=jj_c)


def section(html: str, testid: str) -> str:
    """The markup of the element marked ``data-testid=testid`` up to its table's end."""
    start = html.index(f'data-testid="{testid}"')
    end = html.find("</table>", start)
    return html[start:end if end != -1 else None]


def indicator_rows(html: str) -> dict[str, dict]:
    """Read the indicators table: value, numerator, denominator and verdict per indicator key."""
    rows = {}
    for key, body in re.findall(r'<tr data-indicator="([^"]+)">(.*?)</tr>', section(html, "indicators"), re.S):
        value = re.search(r'data-value="([^"]*)"', body).group(1)
        numerator = re.search(r'data-numerator="([^"]*)"', body).group(1)
        denominator = re.search(r'data-denominator="([^"]*)"', body).group(1)
        met = re.search(r'data-met="([^"]*)"', body).group(1)
        rows[key] = {"value": float(value) if value else None,
                     "numerator": int(numerator) if numerator else None,
                     "denominator": int(denominator) if denominator else None,
                     "met": {"true": True, "false": False, "none": None}[met]}
    return rows


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
