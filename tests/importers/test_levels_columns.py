"""建标层级 on the 强检目录 sheet and 服务区域 on the 机构 sheet: data, read in any spelling, refused when unknown."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from importers import run_import
from registry.catalog.models import CatalogLine
from registry.extensions import db
from registry.institutions.models import Institution
from tests import factories
from tests.importers.books import xlsx

CATALOG_HEADER = ["序号*", "一级名称*", "二级名称", "监管方式*", "强检方式", "说明", "生效日期", "建标层级", "目录版本"]
INSTITUTION_HEADER = ["统一社会信用代码*", "机构名称*", "所属地区*", "机构类型*", "服务区域"]


def _lines() -> dict[str, str | None]:
    return dict(db.session.execute(sa.select(CatalogLine.code, CatalogLine.levels)
                                   .where(CatalogLine.code.like("L%"))).all())


def test_levels_import_in_the_workbook_spelling_and_an_unknown_one_is_a_row_error():
    version = factories.catalog_version(name="层级测试目录", effective_from=date(2021, 1, 1))
    good = xlsx({"强检目录": [CATALOG_HEADER,
                              ["L1", "衡器", None, "V", None, None, None, "市级；县级", version.name],
                              ["L2", "水表", None, "V", None, None, None, None, version.name]]})
    report = run_import(good, actor=None)
    assert report.ok, report.errors
    assert _lines() == {"L1": "city,county", "L2": None}

    bad = xlsx({"强检目录": [CATALOG_HEADER,
                             ["L3", "电能表", None, "V", None, None, None, "乡级", version.name],
                             ["L4", "燃气表", None, "V", None, None, None, "省级", version.name]]})
    report = run_import(bad, actor=None)
    assert not report.ok
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("强检目录", 2, "建标层级")]
    assert "乡级" in report.errors[0].message
    assert _lines() == {"L1": "city,county", "L2": None}  # nothing written


def test_a_service_area_imports_by_name_and_one_outside_the_region_is_a_row_error():
    code = factories.credit_code("360100")
    book = xlsx({"机构": [INSTITUTION_HEADER, [code, "省计量院", "南昌市", "法定计量检定机构", "江西省"]]})
    report = run_import(book, actor=None)
    assert report.ok, report.errors
    institute = db.session.scalar(sa.select(Institution).where(Institution.credit_code == code))
    assert (institute.region_code, institute.serves_region_code) == ("360100", "360000")

    other = factories.credit_code("360100")
    bad = xlsx({"机构": [INSTITUTION_HEADER, [other, "某所", "南昌市", "法定计量检定机构", "九江市"]]})
    report = run_import(bad, actor=None)
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("机构", 2, "服务区域")]
    assert db.session.scalar(sa.select(Institution).where(Institution.credit_code == other)) is None
